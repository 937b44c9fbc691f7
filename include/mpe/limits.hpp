#pragma once
/// @file limits.hpp
/// A ceiling on the host memory that sizes declared in an input may make mpengine allocate.
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

}  // namespace mpe
