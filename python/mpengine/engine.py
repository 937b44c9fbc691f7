"""The scheduler from Python: ``Engine.submit`` returns a ``concurrent.futures.Future``."""

import concurrent.futures
import queue
import threading

from . import _mpengine


class Engine:
    """``mpe::Engine``: batches plans, relevance queries and BP runs submitted from any number
    of threads, runs them on the devices and completes each request's future (with its own
    error when it fails). Use it as a context manager, or call :meth:`close`.

    One helper thread per engine waits on the C++ futures (without the GIL) and completes the
    Python futures, in submission order.
    """

    def __init__(self, device="auto", *, max_batch=256, max_delay_ms=2.0, cpu_workers=1,
                 workers_per_device=2, queue_capacity=1 << 16, block_when_full=True):
        self._engine = _mpengine._Engine(device, max_batch, max_delay_ms, cpu_workers,
                                         workers_per_device, queue_capacity, block_when_full)
        self._pending = queue.SimpleQueue()
        self._closed = False
        self._waiter = threading.Thread(target=self._complete, name="mpengine-futures",
                                        daemon=True)
        self._waiter.start()

    def _complete(self):
        while True:
            item = self._pending.get()
            if item is None:
                return
            ticket, future = item
            try:
                result = ticket.get()
            except BaseException as e:  # the request's own error, e.g. mpengine.InvalidArgumentError
                future.set_exception(e)
            else:
                future.set_result(result)

    def _track(self, ticket):
        future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()  # queued in C++: cancel with Engine.cancel
        future.request_id = ticket.id
        self._pending.put((ticket, future))
        return future

    def submit(self, model, request):
        """Queues one AIF-MP planning request (a :class:`PlanRequest` or a dict of its fields)
        for ``model``; returns a Future of a :class:`Plan`. A bad request's future holds its
        error. Requests of the same model and options are batched together."""
        from . import _as_request
        return self._track(self._engine.submit_plan(model, _as_request(request)))

    def submit_query(self, store, message=None, *, seeds=None, **params):
        """Queues one relevance query (as :meth:`Store.query`); a Future of a QueryResult."""
        return self._track(self._engine.submit_query(store, message, seeds=seeds, **params))

    def submit_bp(self, graph, evidence=(), *, method="sum", schedule="flooding", damping=0.0,
                  tol=1e-9, max_iter=1000):
        """Queues one belief-propagation run of ``graph`` with ``evidence`` (one state per
        variable, -1 unobserved); a Future of a BPResult. Runs of one graph are batched."""
        return self._track(self._engine.submit_bp(graph, list(evidence), method=method,
                                                  schedule=schedule, damping=damping, tol=tol,
                                                  max_iter=max_iter))

    def plan(self, model, request):
        """Submits and waits: the Plan, or the request's error raised."""
        return self.submit(model, request).result()

    def cancel(self, future):
        """Cancels a request that has not started (its future then holds CancelledError)."""
        return self._engine.cancel(future.request_id)

    def stats(self):
        """Counters and latencies (mpe::EngineStats) as a dict."""
        return self._engine.stats()

    def devices(self):
        """The devices batches run on."""
        return self._engine.devices()

    def close(self, drain=True):
        """Stops taking requests; drain=True runs everything queued first, False cancels it."""
        if self._closed:
            return
        self._closed = True
        self._engine.shutdown(drain)
        self._pending.put(None)
        self._waiter.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
