#pragma once
// Softmax over the entries of one CSR row, shared by GAT's attention coefficients
// (kernels/cpu/graph_mp.cpp, kernels/cuda/graph_mp.cu) and CSR-masked attention
// (kernels/cpu/attention_csr.cpp, kernels/cuda/attention_csr.cu).
//
// Two passes over the row: push every score into a running state (max a, max-shifted sum s of
// exponentials: the log-sum-exp accumulator of graph_mp), then each entry's weight is
// exp(score - a) / s. Scores at or below kLogZero / 2 count as zero probability and are
// skipped; a row with no live score has s == 0 (its output is the empty sum, its log-sum-exp
// kLogZero).
#include "common/graph_mp.hpp"
#include "common/hd.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {

using EdgeSoftmax = MpAcc;  // a: running max, s: Σ exp(score - a)

MPE_HD EdgeSoftmax edge_softmax_init() { return mp_init(MpAgg::logsumexp); }

// Adds one entry's score.
MPE_HD EdgeSoftmax edge_softmax_push(EdgeSoftmax st, float score) {
  return mp_step(MpAgg::logsumexp, st, score);
}

// The softmax weight of an entry with `score` once every score of the row is pushed (only
// called for rows with s > 0).
MPE_HD float edge_softmax_weight(EdgeSoftmax st, float score) {
  return mp_div(expf(score - st.a), st.s);
}

// log Σ exp(score) over the row; kLogZero for a row with no live score.
MPE_HD float edge_softmax_lse(EdgeSoftmax st) { return mp_finish(MpAgg::logsumexp, st, 0); }

}  // namespace mpe::kernels
