#pragma once
// One registration function per area; module.cpp calls them all.
#include <nanobind/nanobind.h>

#include <mpe/relevance.hpp>

namespace mpe::py {
namespace nb = nanobind;

void bind_errors(nb::module_& m);
void bind_info(nb::module_& m);
void bind_aif(nb::module_& m);
void bind_agents(nb::module_& m);
void bind_graph(nb::module_& m);
void bind_gnn(nb::module_& m);
void bind_bp(nb::module_& m);
void bind_attention(nb::module_& m);
void bind_relevance(nb::module_& m);
void bind_engine(nb::module_& m);
void bind_bench(nb::module_& m);

/// A relevance query from Store.query's arguments (relevance.cpp; the Engine uses it too).
relevance::Query make_query(const relevance::Store& store, nb::handle message, nb::handle seeds,
                            const nb::kwargs& params);

}  // namespace mpe::py
