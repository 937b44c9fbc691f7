// mpe embed: sentence embeddings from the engine's own BERT encoder (all-MiniLM-L6-v2 by
// default), as JSON for scripts.
#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/text.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"

namespace mpe::cli {

namespace {
DType storage_dtype(const std::string& name) {
  if (name == "bf16") return DType::bf16;
  if (name == "f16") return DType::f16;
  return DType::f32;  // the flag's check admits only f32, bf16, f16
}

struct EmbedFlags {
  std::vector<std::string> texts;
  std::string model;
  std::int64_t batch = 32;
  std::string device = "cpu";
  std::string storage = "f32";
  bool tokens = false;
  int indent = -1;
};

void run_embed(const EmbedFlags& f) {
  std::string dir = f.model.empty() ? text::default_minilm_dir() : f.model;
  if (dir.empty())
    throw Error(ErrorCode::io_error,
                "no sentence encoder: all-MiniLM-L6-v2 is not installed (run "
                "tools/install_minilm.sh, or set MPE_MINILM_DIR) and no --model folder was given");
  std::vector<std::string> texts = f.texts;
  if (texts.empty())  // one text per line on standard input
    for (std::string line; std::getline(std::cin, line);) texts.push_back(line);
  const auto t0 = std::chrono::steady_clock::now();
  const Device device = parse_device(f.device);
  // The shared (process-wide) encoder is the CPU float32 one; any other placement loads its own.
  const auto enc = device == Device::cpu() && f.storage == "f32"
                       ? text::SentenceEncoder::shared(dir)
                       : std::make_shared<const text::SentenceEncoder>(text::SentenceEncoder::load(
                             dir, device, storage_dtype(f.storage)));
  const auto t1 = std::chrono::steady_clock::now();
  const Tensor e = enc->encode(texts, f.batch);
  const auto t2 = std::chrono::steady_clock::now();
  const auto v = e.to_vector<float>();
  nlohmann::json out;
  out["model"] = enc->dir();
  out["embedder"] = enc->name();
  out["dim"] = enc->dim();
  out["normalized"] = enc->normalize();
  out["device"] = enc->device().str();
  out["storage"] = f.storage;  // load() honours it or throws
  out["load_ms"] = std::chrono::duration<double, std::milli>(t1 - t0).count();
  out["encode_ms"] = std::chrono::duration<double, std::milli>(t2 - t1).count();
  out["embeddings"] = nlohmann::json::array();
  const std::size_t d = static_cast<std::size_t>(enc->dim());
  for (std::size_t r = 0; r < texts.size(); ++r) {
    nlohmann::json item{{"text", texts[r]},
                        {"embedding", std::vector<float>(v.begin() + std::ptrdiff_t(r * d),
                                                         v.begin() + std::ptrdiff_t((r + 1) * d))}};
    if (f.tokens) item["tokens"] = enc->tokenizer().encode(texts[r], enc->max_length());
    out["embeddings"].push_back(std::move(item));
  }
  fmt::print("{}\n", out.dump(f.indent, ' ', false, nlohmann::json::error_handler_t::replace));
}
}  // namespace

void add_embed_command(CLI::App& app) {
  auto f = std::make_shared<EmbedFlags>();
  CLI::App* cmd = app.add_subcommand(
      "embed",
      "Sentence embeddings (JSON) from a BERT sentence encoder run on mpengine's own kernels; "
      "all-MiniLM-L6-v2 by default (tools/install_minilm.sh)");
  cmd->add_option("text", f->texts, "Texts to embed (none: one per line from standard input)");
  cmd->add_option("--model", f->model,
                  "Sentence-encoder folder (config.json, model.safetensors, tokenizer.json); "
                  "default: $MPE_MINILM_DIR or /usr/local/share/mpengine/all-MiniLM-L6-v2");
  cmd->add_option("--batch", f->batch, "Texts per padded batch")
      ->check(CLI::Range(std::int64_t(1), std::int64_t(1) << 20))
      ->capture_default_str();
  cmd->add_option("--device", f->device,
                  "Where the encoder runs: cpu, cuda, cuda:N or auto (cuda:0 when a GPU answers)")
      ->capture_default_str();
  cmd->add_option("--storage", f->storage,
                  "Weight type of the dense layers: f32, or bf16/f16 on a CUDA device (float32 "
                  "accumulation)")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}))
      ->capture_default_str();
  cmd->add_flag("--tokens", f->tokens, "Also print each text's token ids");
  cmd->add_option("--indent", f->indent, "JSON indentation (-1: one line)")->capture_default_str();
  cmd->callback([f] { run_embed(*f); });
}

}  // namespace mpe::cli
