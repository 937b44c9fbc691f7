// embed_for: a message embedded by whatever embedder made the store's node vectors.
#include <filesystem>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/relevance.hpp>
#include <mpe/text.hpp>

namespace mpe::relevance {

std::vector<float> embed_for(const Store& store, const std::string& message) {
  const std::string who = store.stats().embedder;
  if (who == TextEmbedder::name()) return TextEmbedder(store.dim()).embed(message);
  const std::string prefix = "minilm:";
  if (who.compare(0, prefix.size(), prefix) == 0) {
    const std::string dir = who.substr(prefix.size());
    if (!std::filesystem::exists(std::filesystem::path(dir) / "config.json"))
      throw Error(ErrorCode::io_error,
                  fmt::format("this store was embedded by the sentence encoder in {}, which is "
                              "no longer there (tools/install_minilm.sh installs MiniLM)",
                              dir));
    const auto enc = text::SentenceEncoder::shared(dir);
    if (enc->dim() != store.dim())
      throw Error(ErrorCode::shape_mismatch,
                  fmt::format("the encoder in {} makes {}-d vectors, the store holds {}-d", dir,
                              enc->dim(), store.dim()));
    return enc->encode(message);
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("this store's embeddings come from '{}', not a text embedder mpengine "
                          "has: pass the message's embedding (from the same model) instead",
                          who.empty() ? "nowhere" : who));
}

}  // namespace mpe::relevance
