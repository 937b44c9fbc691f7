// A rank's part of a partitioned graph: its rows, the halo plan agreed with the owners, and a
// halo round (pack the rows each peer reads, one neighbour exchange, received rows land in the
// halo block directly).
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>
#include <mpe/dist_graph.hpp>
#include <mpe/error.hpp>

namespace mpe::dist {

namespace {
std::size_t row_bytes(const Tensor& t) {
  std::size_t n = dtype_size(t.dtype());
  for (int d = 1; d < t.rank(); ++d) n *= static_cast<std::size_t>(t.dim(d));
  return n;
}

Shape with_rows(const Tensor& t, std::int64_t rows) {
  Shape s = t.shape();
  s[0] = rows;
  return s;
}

template <class T>
std::vector<std::uint8_t> as_bytes(const std::vector<T>& v) {
  std::vector<std::uint8_t> out(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

template <class T>
std::vector<T> from_bytes(const std::vector<std::uint8_t>& b) {
  std::vector<T> out(b.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), b.data(), out.size() * sizeof(T));
  return out;
}
}  // namespace

Tensor first_rows(const Tensor& t, std::int64_t n) {
  if (t.rank() < 1 || n < 0 || n > t.dim(0)) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("first_rows: {} rows of a tensor {}", n, shape_str(t.shape())));
  }
  const Tensor h = t.is_cpu() ? t : t.to(Device::cpu());
  return Tensor::from_host(h.raw(),
                           static_cast<std::size_t>(n) * row_bytes(h) / dtype_size(h.dtype()),
                           h.dtype(), with_rows(h, n), t.device());
}

namespace {
void check_owner(const std::vector<int>& owner, std::int64_t nodes, int P, const char* op) {
  if (static_cast<std::int64_t>(owner.size()) != nodes) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} owners for {} nodes", op, owner.size(), nodes));
  }
  for (std::size_t i = 0; i < owner.size(); ++i) {
    if (owner[i] < 0 || owner[i] >= P) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: node {} has part {}, not in [0, {})", op, i, owner[i], P));
    }
  }
}
}  // namespace

PartitionedGraph PartitionedGraph::build(std::shared_ptr<Communicator> comm, const Csr& global,
                                         const std::vector<int>& owner) {
  if (!comm) throw Error(ErrorCode::invalid_argument, "PartitionedGraph::build: no communicator");
  if (global.num_rows != global.num_cols) {
    throw Error(ErrorCode::invalid_graph,
                fmt::format("PartitionedGraph::build: the graph must be square, got {} x {}",
                            global.num_rows, global.num_cols));
  }
  const int P = comm->size(), me = comm->rank();
  check_owner(owner, global.num_rows, P, "PartitionedGraph::build");
  const Csr g = global.to(Device::cpu());
  validate(g);
  // This rank's rows with global column ids, and the global index of each of their entries.
  const auto off = g.row_offsets.to_vector<std::int64_t>();
  const auto col = g.col_indices.to_vector<std::int32_t>();
  const std::vector<float> w = g.weighted() ? g.weights.to_vector<float>() : std::vector<float>{};
  std::vector<std::int64_t> roff{0}, entries;
  std::vector<std::int32_t> rcol;
  std::vector<float> rw;
  for (std::int64_t i = 0; i < g.num_rows; ++i) {
    if (owner[static_cast<std::size_t>(i)] != me) continue;
    for (std::int64_t e = off[static_cast<std::size_t>(i)];
         e < off[static_cast<std::size_t>(i) + 1]; ++e) {
      rcol.push_back(col[static_cast<std::size_t>(e)]);
      if (!w.empty()) rw.push_back(w[static_cast<std::size_t>(e)]);
      entries.push_back(e);
    }
    roff.push_back(static_cast<std::int64_t>(rcol.size()));
  }
  return assemble(std::move(comm), owner, roff, rcol, rw, std::move(entries));
}

PartitionedGraph PartitionedGraph::from_rows(std::shared_ptr<Communicator> comm, const Csr& rows,
                                             const std::vector<int>& owner) {
  const char* op = "PartitionedGraph::from_rows";
  if (!comm) throw Error(ErrorCode::invalid_argument, fmt::format("{}: no communicator", op));
  const int P = comm->size(), me = comm->rank();
  check_owner(owner, rows.num_cols, P, op);
  const auto mine = static_cast<std::int64_t>(std::count(owner.begin(), owner.end(), me));
  if (rows.num_rows != mine) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: rank {} owns {} nodes but was given {} rows", op, me, mine,
                            rows.num_rows));
  }
  const Csr r = rows.to(Device::cpu());
  validate(r);
  std::vector<std::int64_t> entries(static_cast<std::size_t>(r.nnz()));
  for (std::size_t e = 0; e < entries.size(); ++e) entries[e] = static_cast<std::int64_t>(e);
  return assemble(std::move(comm), owner, r.row_offsets.to_vector<std::int64_t>(),
                  r.col_indices.to_vector<std::int32_t>(),
                  r.weighted() ? r.weights.to_vector<float>() : std::vector<float>{},
                  std::move(entries));
}

PartitionedGraph PartitionedGraph::assemble(std::shared_ptr<Communicator> comm,
                                            const std::vector<int>& owner,
                                            const std::vector<std::int64_t>& off,
                                            const std::vector<std::int32_t>& col,
                                            const std::vector<float>& w,
                                            std::vector<std::int64_t> entries) {
  const int P = comm->size(), me = comm->rank();
  PartitionedGraph part;
  part.comm_ = std::move(comm);
  part.global_nodes_ = static_cast<std::int64_t>(owner.size());
  part.owner_ = owner;
  for (std::int64_t i = 0; i < part.global_nodes_; ++i)
    if (owner[static_cast<std::size_t>(i)] == me) part.owned_.push_back(i);
  const auto n_own = static_cast<std::int64_t>(part.owned_.size());
  // Halo: remote columns of the owned rows, sorted by (owner, id) so each peer's rows are one
  // block of the local numbering.
  std::vector<std::int64_t> halo;
  for (std::int32_t j : col)
    if (owner[static_cast<std::size_t>(j)] != me) halo.push_back(j);
  std::sort(halo.begin(), halo.end(), [&](std::int64_t a, std::int64_t b) {
    const int oa = owner[static_cast<std::size_t>(a)], ob = owner[static_cast<std::size_t>(b)];
    return oa != ob ? oa < ob : a < b;
  });
  halo.erase(std::unique(halo.begin(), halo.end()), halo.end());
  part.halo_ = std::move(halo);
  const std::int64_t n_local = n_own + static_cast<std::int64_t>(part.halo_.size());
  std::unordered_map<std::int64_t, std::int64_t> local_of;
  local_of.reserve(static_cast<std::size_t>(n_local) * 2);
  for (std::int64_t k = 0; k < n_own; ++k) local_of[part.owned_[static_cast<std::size_t>(k)]] = k;
  for (std::size_t k = 0; k < part.halo_.size(); ++k)
    local_of[part.halo_[k]] = n_own + static_cast<std::int64_t>(k);
  // Local CSR: owned rows with their entries in the given order, then empty halo rows.
  std::vector<std::int64_t> loff(static_cast<std::size_t>(n_local) + 1, 0);
  std::vector<std::int32_t> lcol(col.size());
  for (std::size_t e = 0; e < col.size(); ++e)
    lcol[e] = static_cast<std::int32_t>(local_of.at(col[e]));
  for (std::int64_t k = 0; k < n_own; ++k)
    loff[static_cast<std::size_t>(k) + 1] = off[static_cast<std::size_t>(k) + 1];
  part.local_edges_ = std::move(entries);
  for (std::int64_t k = n_own; k < n_local; ++k)
    loff[static_cast<std::size_t>(k) + 1] = static_cast<std::int64_t>(lcol.size());
  part.local_.num_rows = part.local_.num_cols = n_local;
  part.local_.row_offsets = Tensor::from_vector(loff, {n_local + 1});
  part.local_.col_indices = Tensor::from_vector(lcol, {static_cast<std::int64_t>(lcol.size())});
  if (!w.empty())
    part.local_.weights = Tensor::from_vector(w, {static_cast<std::int64_t>(w.size())});
  // Halo plan: ask each owner for its rows; what others ask of us is what we send.
  part.recv_first_.assign(static_cast<std::size_t>(P), 0);
  part.recv_count_.assign(static_cast<std::size_t>(P), 0);
  std::vector<std::vector<std::int64_t>> ask(static_cast<std::size_t>(P));
  for (std::size_t k = 0; k < part.halo_.size(); ++k) {
    const auto p = static_cast<std::size_t>(owner[static_cast<std::size_t>(part.halo_[k])]);
    if (ask[p].empty()) part.recv_first_[p] = n_own + static_cast<std::int64_t>(k);
    ask[p].push_back(part.halo_[k]);
    ++part.recv_count_[p];
  }
  std::vector<std::vector<std::uint8_t>> to(static_cast<std::size_t>(P));
  for (std::size_t p = 0; p < to.size(); ++p) to[p] = as_bytes(ask[p]);
  const auto asked = part.comm_->all_to_all(to);
  part.send_rows_.resize(static_cast<std::size_t>(P));
  for (std::size_t p = 0; p < asked.size(); ++p) {
    for (std::int64_t id : from_bytes<std::int64_t>(asked[p])) {
      const auto it = local_of.find(id);
      if (it == local_of.end() || it->second >= n_own) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("halo plan: rank {} asked rank {} for node {}, not owned there "
                                "(do the ranks pass different owner vectors?)",
                                p, me, id));
      }
      part.send_rows_[p].push_back(it->second);
    }
  }
  return part;
}

Tensor PartitionedGraph::owned_rows(const Tensor& global) const {
  if (global.rank() < 1 || global.dim(0) != global_nodes_) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("owned_rows: expected [{} nodes, ...], got {}", global_nodes_,
                            shape_str(global.shape())));
  }
  const Tensor h = global.is_cpu() ? global : global.to(Device::cpu());
  const std::size_t rb = row_bytes(h);
  Tensor out = Tensor::empty(with_rows(h, static_cast<std::int64_t>(owned_.size())), h.dtype());
  auto* dst = static_cast<std::uint8_t*>(out.raw());
  const auto* src = static_cast<const std::uint8_t*>(h.raw());
  for (std::size_t k = 0; k < owned_.size(); ++k)
    std::memcpy(dst + k * rb, src + static_cast<std::size_t>(owned_[k]) * rb, rb);
  return global.is_cpu() ? out : out.to(global.device());
}

Tensor PartitionedGraph::local_entries(const Tensor& per_entry) const {
  if (!per_entry.defined()) return per_entry;
  const Tensor h = per_entry.is_cpu() ? per_entry : per_entry.to(Device::cpu());
  const std::size_t rb = row_bytes(h);
  Tensor out =
      Tensor::empty(with_rows(h, static_cast<std::int64_t>(local_edges_.size())), h.dtype());
  auto* dst = static_cast<std::uint8_t*>(out.raw());
  const auto* src = static_cast<const std::uint8_t*>(h.raw());
  for (std::size_t k = 0; k < local_edges_.size(); ++k) {
    if (local_edges_[k] >= h.dim(0)) {
      throw Error(ErrorCode::shape_mismatch,
                  fmt::format("local_entries: tensor {} has fewer rows than the graph's entries",
                              shape_str(h.shape())));
    }
    std::memcpy(dst + k * rb, src + static_cast<std::size_t>(local_edges_[k]) * rb, rb);
  }
  return per_entry.is_cpu() ? out : out.to(per_entry.device());
}

Tensor PartitionedGraph::with_halo(const Tensor& x_owned) const {
  const auto n_own = static_cast<std::int64_t>(owned_.size());
  if (x_owned.rank() < 1 || x_owned.dim(0) != n_own) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("with_halo: expected [{} owned rows, ...], got {}", n_own,
                            shape_str(x_owned.shape())));
  }
  // Device buffers are staged through the host (the MPI communicator moves host memory).
  const Tensor h = x_owned.is_cpu() ? x_owned : x_owned.to(Device::cpu());
  const std::size_t rb = row_bytes(h);
  const std::int64_t n_local = local_.num_rows;
  Tensor out = Tensor::empty(with_rows(h, n_local), h.dtype());
  auto* base = static_cast<std::uint8_t*>(out.raw());
  if (n_own) std::memcpy(base, h.raw(), static_cast<std::size_t>(n_own) * rb);
  const auto* src = static_cast<const std::uint8_t*>(h.raw());
  std::vector<std::vector<std::uint8_t>> packed(send_rows_.size());
  std::vector<Neighbour> peers;
  for (std::size_t p = 0; p < send_rows_.size(); ++p) {
    const auto& rows = send_rows_[p];
    packed[p].resize(rows.size() * rb);
    for (std::size_t k = 0; k < rows.size(); ++k)
      std::memcpy(packed[p].data() + k * rb, src + static_cast<std::size_t>(rows[k]) * rb, rb);
    const std::size_t in = static_cast<std::size_t>(recv_count_[p]) * rb;
    if (packed[p].empty() && in == 0) continue;
    peers.push_back({static_cast<int>(p), packed[p].data(), packed[p].size(),
                     base + static_cast<std::size_t>(recv_first_[p]) * rb, in});
  }
  comm_->neighbour_exchange(peers);
  return x_owned.is_cpu() ? out : out.to(x_owned.device());
}

Tensor PartitionedGraph::all_gather_rows(const Tensor& x_owned) const {
  const auto n_own = static_cast<std::int64_t>(owned_.size());
  if (x_owned.rank() < 1 || x_owned.dim(0) != n_own) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("all_gather_rows: expected [{} owned rows, ...], got {}", n_own,
                            shape_str(x_owned.shape())));
  }
  const Tensor h = x_owned.is_cpu() ? x_owned : x_owned.to(Device::cpu());
  const std::size_t rb = row_bytes(h);
  std::vector<std::uint8_t> mine(static_cast<std::size_t>(n_own) * rb);
  if (!mine.empty()) std::memcpy(mine.data(), h.raw(), mine.size());
  const auto all = comm_->all_gather(mine);
  // Rank r's rows are the nodes it owns, ascending: walk the owners in rank order.
  Tensor out = Tensor::empty(with_rows(h, global_nodes_), h.dtype());
  auto* dst = static_cast<std::uint8_t*>(out.raw());
  std::vector<std::int64_t> at(static_cast<std::size_t>(comm_->size()), 0);
  std::vector<std::int64_t> start(at.size() + 1, 0);
  for (int o : owner_) ++start[static_cast<std::size_t>(o) + 1];
  for (std::size_t r = 0; r < at.size(); ++r) start[r + 1] += start[r];
  if (all.size() != static_cast<std::size_t>(global_nodes_) * rb) {
    throw Error(ErrorCode::internal, "all_gather_rows: ranks sent rows of different widths");
  }
  for (std::int64_t i = 0; i < global_nodes_; ++i) {
    const auto r = static_cast<std::size_t>(owner_[static_cast<std::size_t>(i)]);
    const std::int64_t k = start[r] + at[r]++;
    std::memcpy(dst + static_cast<std::size_t>(i) * rb,
                all.data() + static_cast<std::size_t>(k) * rb, rb);
  }
  return x_owned.is_cpu() ? out : out.to(x_owned.device());
}

std::int64_t PartitionedGraph::halo_send_rows() const {
  std::int64_t n = 0;
  for (const auto& r : send_rows_) n += static_cast<std::int64_t>(r.size());
  return n;
}

Tensor forward(const PartitionedGraph& part, const gnn::GcnConv& layer, const Tensor& x_owned,
               Activation act) {
  // GcnConv::forward's steps (gnn.cpp), with the halo round between the product and the sum.
  const Tensor h_local = part.with_halo(gnn::linear(x_owned, layer.weight));
  MessagePassing mp;
  mp.message = part.local().weighted() ? MessageKind::edge_weight : MessageKind::copy;
  mp.aggregate = Aggregation::sum;
  mp.update = Update{0.0f, 1.0f, act, layer.bias};
  return first_rows(mpe::message_passing(part.local(), h_local, mp),
                    static_cast<std::int64_t>(part.owned().size()));
}

Tensor message_passing(const PartitionedGraph& part, const Tensor& x_owned,
                       const MessagePassing& layer, int rounds, const EdgeTypes& types) {
  if (rounds < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("dist::message_passing: rounds must be >= 1, got {}", rounds));
  }
  EdgeTypes local_types;
  if (types.types.defined()) {
    local_types.types = part.local_entries(types.types);
    local_types.weights = types.weights;
  }
  const auto n_own = static_cast<std::int64_t>(part.owned().size());
  Tensor x = x_owned;
  for (int r = 0; r < rounds; ++r) {
    const Tensor y = mpe::message_passing(part.local(), part.with_halo(x), layer, local_types);
    x = first_rows(y, n_own);
  }
  return x;
}

}  // namespace mpe::dist
