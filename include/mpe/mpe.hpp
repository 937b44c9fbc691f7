#pragma once
/// @file mpe.hpp
/// Umbrella header: everything in mpengine's public API.

#include <mpe/agents.hpp>
#include <mpe/aif.hpp>
#include <mpe/attention.hpp>
#include <mpe/bioelectric.hpp>
#include <mpe/device.hpp>
#include <mpe/engine.hpp>
#include <mpe/error.hpp>
#include <mpe/factor_graph.hpp>
#include <mpe/gnn.hpp>
#include <mpe/graph.hpp>
#include <mpe/graph_mp.hpp>
#include <mpe/limits.hpp>
#include <mpe/npy.hpp>
#include <mpe/ops.hpp>
#include <mpe/predictive_coding.hpp>
#include <mpe/relevance.hpp>
#include <mpe/tensor.hpp>
#include <mpe/threads.hpp>
