// NumPy .npy files (include/mpe/npy.hpp). Format: magic "\x93NUMPY", major/minor version,
// header length (2 bytes in v1, 4 in v2/v3, little-endian), then a Python dict literal with
// 'descr', 'fortran_order' and 'shape', padded with spaces to a 16- or 64-byte boundary.
#include <mpe/npy.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/limits.hpp>

#include "graph/text_io.hpp"

namespace mpe {

namespace {
[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::parse_error, fmt::format("{}: not a usable .npy file: {}", path, what));
}

// The value text after 'key': in the header dict (up to the next top-level comma or brace).
std::string dict_value(const std::string& header, const std::string& key,
                       const std::string& path) {
  std::size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) at = header.find("\"" + key + "\"");
  if (at == std::string::npos) bad(path, fmt::format("header has no '{}'", key));
  at = header.find(':', at);
  if (at == std::string::npos) bad(path, fmt::format("header entry '{}' has no value", key));
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  std::size_t end = at;
  if (end < header.size() && header[end] == '(') {
    end = header.find(')', end);
    if (end == std::string::npos) bad(path, "unterminated shape tuple");
    return header.substr(at, end - at + 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  std::string v = header.substr(at, end - at);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

Shape parse_shape(const std::string& tuple, const std::string& path) {
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')') {
    bad(path, fmt::format("shape '{}' is not a tuple", tuple));
  }
  Shape shape;
  std::size_t i = 1;
  while (i + 1 < tuple.size()) {
    while (i + 1 < tuple.size() && (tuple[i] == ' ' || tuple[i] == ',')) ++i;
    if (i + 1 >= tuple.size()) break;
    std::size_t j = i;
    while (j + 1 < tuple.size() && tuple[j] >= '0' && tuple[j] <= '9') ++j;
    if (j == i) bad(path, fmt::format("shape '{}' holds a non-integer extent", tuple));
    if (j - i > 15) bad(path, fmt::format("shape '{}' has an extent too large", tuple));
    shape.push_back(std::stoll(tuple.substr(i, j - i)));
    i = j;
  }
  return shape;
}

DType parse_descr(const std::string& descr, const std::string& path) {
  std::string d = descr;
  if (d.size() >= 2 && (d.front() == '\'' || d.front() == '"')) d = d.substr(1, d.size() - 2);
  if (d == "<f4") return DType::f32;
  if (d == "<f8") return DType::f64;
  if (d == "<i4") return DType::i32;
  if (d == "<i8") return DType::i64;
  if (d == "<f2") return DType::f16;
  bad(path, fmt::format("dtype '{}' is not supported (little-endian float16, float32, float64, "
                        "int32 or int64 only)",
                        d));
}

// The .npy descr of `t`; nullptr for bfloat16, which NumPy has no type for.
const char* descr_of(DType t) {
  switch (t) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
    case DType::f16: return "<f2";
    case DType::bf16: return nullptr;
  }
  return nullptr;
}
}  // namespace

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::io_error, fmt::format("cannot open '{}' for reading", path));
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    bad(path, "missing the \\x93NUMPY magic");
  }
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) bad(path, "truncated header length");
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) bad(path, "truncated header length");
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  } else {
    bad(path, fmt::format("format version {} is not supported (1, 2 or 3)", major));
  }
  if (header_len > (1u << 20)) bad(path, fmt::format("header of {} bytes", header_len));
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) bad(path, "truncated header");
  const DType dtype = parse_descr(dict_value(header, "descr", path), path);
  const std::string fortran = dict_value(header, "fortran_order", path);
  if (fortran == "True") {
    bad(path, "Fortran-order arrays are not supported (save with numpy.ascontiguousarray)");
  }
  if (fortran != "False") bad(path, fmt::format("fortran_order is '{}'", fortran));
  const Shape shape = parse_shape(dict_value(header, "shape", path), path);
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d > 0 && n > (std::int64_t{1} << 40) / d) bad(path, "array too large");
    n *= d;
  }
  // The declared size against the bytes the file holds and the input ceiling, before the
  // body is allocated: a header may declare far more than follows it.
  const std::int64_t need = n * static_cast<std::int64_t>(dtype_size(dtype));
  const std::streampos body_at = in.tellg();
  in.seekg(0, std::ios::end);
  const std::int64_t held = static_cast<std::int64_t>(in.tellg() - body_at);
  in.seekg(body_at);
  if (!in || held < need) {
    bad(path, fmt::format("body holds {} bytes, fewer than the {} bytes shape {} needs",
                          std::max<std::int64_t>(held, 0), need, shape_str(shape)));
  }
  check_input_bytes(static_cast<double>(need), fmt::format("{}: shape {}", path, shape_str(shape)));
  std::vector<char> body(static_cast<std::size_t>(need));
  if (!body.empty() && !in.read(body.data(), static_cast<std::streamsize>(body.size()))) {
    bad(path, fmt::format("body holds fewer than the {} bytes shape {} needs", body.size(),
                          shape_str(shape)));
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    bad(path, fmt::format("bytes follow the {} values of shape {}", n, shape_str(shape)));
  }
  return Tensor::from_host(body.data(), static_cast<std::size_t>(n), dtype, shape);
}

Tensor read_npy_f32(const std::string& path) {
  Tensor t = read_npy(path);
  if (t.dtype() == DType::f32) return t;
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    switch (t.dtype()) {
      case DType::f64: v[i] = static_cast<float>(t.data<double>()[i]); break;
      case DType::i32: v[i] = static_cast<float>(t.data<std::int32_t>()[i]); break;
      case DType::i64: v[i] = static_cast<float>(t.data<std::int64_t>()[i]); break;
      case DType::f16: v[i] = to_float(t.data<float16>()[i]); break;
      case DType::f32:
      case DType::bf16: break;  // f32 returned above; read_npy never yields bfloat16
    }
  }
  return Tensor::from_vector(v, t.shape());
}

void write_npy(const std::string& path, const Tensor& t) {
  const char* descr = descr_of(t.dtype());
  if (descr == nullptr) {
    throw Error(ErrorCode::dtype_mismatch,
                fmt::format("write_npy '{}': NumPy has no {} type; convert the tensor first "
                            "(astype(DType::f32))",
                            path, dtype_name(t.dtype())));
  }
  const Tensor host = t.is_cpu() ? t : t.to(Device::cpu());
  std::string dims;
  for (std::size_t i = 0; i < host.shape().size(); ++i) {
    dims += fmt::format("{}{}", i ? ", " : "", host.shape()[i]);
  }
  if (host.shape().size() == 1) dims += ",";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                   descr, dims);
  // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  detail::write_atomically(path, [&](std::ostream& out) {
    out.write("\x93NUMPY\x01\x00", 8);
    const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                  static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(len), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(host.raw()),
              static_cast<std::streamsize>(host.nbytes()));
  });
}

}  // namespace mpe
