#pragma once
/// @file npy.hpp
/// NumPy's `.npy` tensor files (format versions 1.0, 2.0 and 3.0), so that models and data
/// written with `numpy.save` load directly. Reading accepts little-endian float16, float32,
/// float64, int32 and int64 arrays in C order (all can be converted to float32 on request);
/// writing produces version 1.0 files that `numpy.load` reads. bfloat16 has no NumPy type and
/// is refused by write_npy.
#include <string>

#include <mpe/tensor.hpp>

namespace mpe {

/// Reads a `.npy` file into a host tensor of the file's element type. Throws Error(io_error)
/// when the file cannot be read and Error(parse_error) naming the file and the problem (bad
/// magic, unsupported dtype such as big-endian or complex, Fortran order, a truncated body).
Tensor read_npy(const std::string& path);

/// Reads a `.npy` file as float32, converting float16/float64/int32/int64 values.
Tensor read_npy_f32(const std::string& path);

/// Writes a host or device tensor as a `.npy` file (written to a temporary name and renamed, so
/// a failed write leaves no partial file). Throws Error(io_error) on failure and
/// Error(dtype_mismatch) for a bfloat16 tensor (NumPy has no bfloat16; convert with astype).
void write_npy(const std::string& path, const Tensor& t);

}  // namespace mpe
