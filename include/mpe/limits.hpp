#pragma once
/// @file limits.hpp
/// A ceiling on the host memory that sizes declared in an input may make mpengine allocate, and
/// the check that refuses NaN and infinities in the raw tensors the ops take.
///
/// A file can declare sizes far beyond what it holds (a Matrix Market header with 10^12
/// entries, a `.npy` shape of 2^40 bytes, a factor table of 10^9 entries). The readers, and
/// csr_from_coo for the row arrays a declared row count implies, compare what those sizes would
/// need with this ceiling before allocating, and throw Error(out_of_memory) naming the size,
/// the file and the ceiling when it is exceeded. Nothing is allocated and nothing changes.
///
/// The default is 16 GiB (2^34 bytes), or the value of the environment variable
/// MPE_MAX_INPUT_BYTES (a positive integer, bytes) when it is set at the first use. Raise it for
/// larger inputs with set_max_input_bytes; lower it to make a service refuse large files.

#include <cstdint>
#include <string>

namespace mpe {

/// The current ceiling, in bytes.
std::int64_t max_input_bytes() noexcept;

/// Sets the ceiling for every reader in this process (thread-safe) and returns the previous
/// one. Throws Error(invalid_argument) when `bytes` is not positive.
std::int64_t set_max_input_bytes(std::int64_t bytes);

/// Throws Error(out_of_memory) when `bytes` (a double, so that products of declared sizes
/// cannot overflow) exceeds max_input_bytes(). `what` names the input and the size, e.g.
/// "g.mtx: 10^12 declared entries"; the message adds the bytes, the ceiling and how to raise it.
void check_input_bytes(double bytes, const std::string& what);

/// Non-finite inputs of the tensor ops. lse_contract, csr_aggregate, graph_mp, the GNN layers
/// (linear, gcn, sage, gin, gat), attention and bio::diffuse take raw float tensors; with this
/// check on, each scans its host inputs once before computing and throws
/// Error(invalid_argument) naming the op, the tensor and the first bad element (for example
/// "csr_aggregate: x[12, 3] is nan"), so no NaN comes out of a finite-looking call and nothing
/// is written. Log-domain inputs (lse_contract's M and x) may hold -inf, their log-zero; NaN
/// and +inf are refused there.
///
/// On by default: the scan reads each input once more (docs/reliability.md: csr_aggregate at
/// degree 16, width 64 runs 13% more instructions and no measurably longer; the ops that do
/// O(N²) or O(nnz·F) work per O(N) input see nothing). Turn it off with
/// set_check_finite(false) or MPE_CHECK_FINITE=0 in the environment at the first use; NaN and
/// infinities then propagate as IEEE arithmetic makes them (docs/reliability.md lists how).
/// Tensors on a CUDA device are not scanned (that would need a device synchronisation per call).
bool check_finite() noexcept;

/// Turns the check on or off for every op in this process (thread-safe); returns the previous
/// setting.
bool set_check_finite(bool on) noexcept;

}  // namespace mpe
