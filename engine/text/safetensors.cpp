// safetensors reader: the header is parsed and checked whole at open(); data is read per tensor.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/text.hpp>
#include <nlohmann/json.hpp>

namespace mpe::text {

namespace {
using nlohmann::json;

constexpr std::uint64_t kMaxHeader = std::uint64_t(100) << 20;  // the format's own limit

// Element size of a safetensors dtype, 0 when unknown.
std::uint64_t element_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::parse_error, fmt::format("safetensors file {}: {}", path, what));
}

SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const json& v) {
  if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
      !v.contains("data_offsets"))
    bad(path, fmt::format("tensor '{}' lacks dtype, shape or data_offsets", name));
  SafetensorsEntry e;
  e.name = name;
  const json& d = v["dtype"];
  const json& s = v["shape"];
  const json& o = v["data_offsets"];
  if (!d.is_string()) bad(path, fmt::format("tensor '{}': dtype is not a string", name));
  e.dtype = d.get<std::string>();
  const std::uint64_t esize = element_size(e.dtype);
  if (esize == 0) bad(path, fmt::format("tensor '{}': unknown dtype '{}'", name, e.dtype));
  if (!s.is_array()) bad(path, fmt::format("tensor '{}': shape is not a list", name));
  std::uint64_t count = 1;
  for (const json& x : s) {
    if (!x.is_number_unsigned())
      bad(path, fmt::format("tensor '{}': shape entries must be non-negative integers", name));
    const std::uint64_t n = x.get<std::uint64_t>();
    if (n > std::uint64_t(std::numeric_limits<std::int64_t>::max()) ||
        (n != 0 && count > std::numeric_limits<std::uint64_t>::max() / esize / n))
      bad(path, fmt::format("tensor '{}': shape too large", name));
    count *= n;
    e.shape.push_back(static_cast<std::int64_t>(n));
  }
  if (!o.is_array() || o.size() != 2 || !o[0].is_number_unsigned() || !o[1].is_number_unsigned())
    bad(path, fmt::format("tensor '{}': data_offsets must be two non-negative integers", name));
  e.begin = o[0].get<std::uint64_t>();
  e.end = o[1].get<std::uint64_t>();
  if (e.end < e.begin)
    bad(path, fmt::format("tensor '{}': data_offsets [{}, {}] run backwards", name, e.begin,
                          e.end));
  if (e.end - e.begin != count * esize)
    bad(path, fmt::format("tensor '{}': {} bytes for {} {} of shape {} (which need {})", name,
                          e.end - e.begin, count, e.dtype, shape_str(e.shape), count * esize));
  return e;
}

// Copies `count` elements of 16-bit floats into float32.
template <class H>
void widen(const unsigned char* src, std::int64_t count, float* dst) {
  for (std::int64_t k = 0; k < count; ++k) {
    H h;
    std::memcpy(&h.bits, src + 2 * k, 2);
    dst[k] = to_float(h);
  }
}
}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(ErrorCode::io_error, fmt::format("cannot open safetensors file {}", path));
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char len_bytes[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8))
    bad(path, fmt::format("{} bytes: too short for the 8-byte header length", file_size));
  std::uint64_t header_len = 0;
  for (int k = 7; k >= 0; --k) header_len = (header_len << 8) | len_bytes[k];
  if (header_len > kMaxHeader || header_len > file_size - 8)
    bad(path, fmt::format("header length {} exceeds the file ({} bytes) or the 100 MiB limit",
                          header_len, file_size));
  std::string header(static_cast<std::size_t>(header_len), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_len)))
    throw Error(ErrorCode::io_error, fmt::format("cannot read the header of {}", path));
  json h;
  try {
    h = json::parse(header);
  } catch (const json::exception& e) {
    bad(path, fmt::format("header is not valid JSON ({})", e.what()));
  }
  if (!h.is_object()) bad(path, "header is not a JSON object");

  SafetensorsFile f;
  f.path_ = path;
  f.data_start_ = 8 + header_len;
  const std::uint64_t data_size = file_size - f.data_start_;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) bad(path, "__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) bad(path, fmt::format("metadata '{}' is not a string", m.key()));
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    SafetensorsEntry e = parse_entry(path, it.key(), it.value());
    if (e.end > data_size)
      bad(path, fmt::format("tensor '{}': data_offsets [{}, {}] run past the {} data bytes "
                            "(truncated file?)",
                            e.name, e.begin, e.end, data_size));
    f.entries_.push_back(std::move(e));
  }
  std::sort(f.entries_.begin(), f.entries_.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) { return a.begin < b.begin; });
  for (std::size_t k = 0; k < f.entries_.size(); ++k) {
    if (k > 0 && f.entries_[k].begin < f.entries_[k - 1].end)
      bad(path, fmt::format("tensors '{}' and '{}' overlap", f.entries_[k - 1].name,
                            f.entries_[k].name));
    f.index_[f.entries_[k].name] = k;
  }
  return f;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("safetensors file {} has no tensor '{}'", path_, name));
  return entries_[it->second];
}

Tensor SafetensorsFile::load(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  DType dt;
  if (e.dtype == "F32") dt = DType::f32;
  else if (e.dtype == "F64") dt = DType::f64;
  else if (e.dtype == "F16") dt = DType::f16;
  else if (e.dtype == "BF16") dt = DType::bf16;
  else if (e.dtype == "I64") dt = DType::i64;
  else if (e.dtype == "I32") dt = DType::i32;
  else
    throw Error(ErrorCode::not_supported,
                fmt::format("safetensors file {}: tensor '{}' has dtype {}, which mpengine does "
                            "not load (F32, F64, F16, BF16, I64, I32)",
                            path_, name, e.dtype));
  Tensor t = Tensor::empty(e.shape, dt);
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(data_start_ + e.begin));
  if (!in || !in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(e.end - e.begin)))
    throw Error(ErrorCode::io_error,
                fmt::format("cannot read tensor '{}' from {}", name, path_));
  return t;  // safetensors is little-endian, as every host mpengine builds for
}

Tensor SafetensorsFile::load_f32(const std::string& name) const {
  Tensor t = load(name);
  const std::int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::f32:
      return t;
    case DType::f16:
    case DType::bf16: {
      Tensor out = Tensor::empty(t.shape(), DType::f32);
      const auto* src = static_cast<const unsigned char*>(t.raw());
      if (t.dtype() == DType::f16) widen<float16>(src, n, out.data<float>());
      else widen<bfloat16>(src, n, out.data<float>());
      return out;
    }
    case DType::f64:
      return t.astype(DType::f32);
    default:
      throw Error(ErrorCode::dtype_mismatch,
                  fmt::format("safetensors file {}: tensor '{}' is {}, not a float tensor", path_,
                              name, entry(name).dtype));
  }
}

}  // namespace mpe::text
