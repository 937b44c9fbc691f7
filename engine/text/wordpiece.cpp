// BERT WordPiece tokenizer from tokenizer.json: normalise, pre-tokenise, greedy longest match.
#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/text.hpp>
#include <nlohmann/json.hpp>

#include "text/unicode.hpp"

namespace mpe::text {

namespace {
using nlohmann::json;
namespace uc = unicode;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::parse_error, fmt::format("tokenizer file {}: {}", path, what));
}

bool flag(const json& j, const char* key, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  return j[key].get<bool>();
}

// The id of a special token named in the post-processor (TemplateProcessing or BertProcessing).
std::int32_t special_from(const json& post, const char* name, const char* bert_key) {
  if (!post.is_object()) return -1;
  if (post.contains("special_tokens") && post["special_tokens"].contains(name)) {
    const json& ids = post["special_tokens"][name]["ids"];
    if (ids.is_array() && ids.size() == 1) return ids[0].get<std::int32_t>();
  }
  if (post.contains(bert_key) && post[bert_key].is_array() && post[bert_key].size() == 2)
    return post[bert_key][1].get<std::int32_t>();
  return -1;
}
}  // namespace

WordPieceTokenizer WordPieceTokenizer::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::io_error, fmt::format("cannot open tokenizer file {}", path));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    bad(path, fmt::format("not valid JSON ({})", e.what()));
  }
  WordPieceTokenizer t;
  try {
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
      bad(path, "no \"model\" section");
    const json& m = j["model"];
    const std::string type = m.value("type", std::string());
    if (type != "WordPiece")
      throw Error(ErrorCode::not_supported,
                  fmt::format("tokenizer file {}: model type '{}'; only WordPiece (BERT) is "
                              "supported",
                              path, type));
    if (!m.contains("vocab") || !m["vocab"].is_object() || m["vocab"].empty())
      bad(path, "the WordPiece model has no vocab");
    for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0 ||
          it.value().get<std::int64_t>() > INT32_MAX)
        bad(path, fmt::format("vocab entry '{}' has no valid id", it.key()));
      const auto id = it.value().get<std::int32_t>();
      t.vocab_[it.key()] = id;
      t.vocab_size_ = std::max<std::int64_t>(t.vocab_size_, std::int64_t(id) + 1);
    }
    t.tokens_.assign(static_cast<std::size_t>(t.vocab_size_), std::string());
    for (const auto& [tok, id] : t.vocab_) t.tokens_[static_cast<std::size_t>(id)] = tok;
    t.opt_.prefix = m.value("continuing_subword_prefix", std::string("##"));
    t.opt_.max_chars = m.value("max_input_chars_per_word", std::int64_t(100));
    const std::string unk = m.value("unk_token", std::string("[UNK]"));
    t.unk_ = t.token_id(unk);
    if (t.unk_ < 0) bad(path, fmt::format("the unknown token '{}' is not in the vocab", unk));

    const json& n = j.contains("normalizer") ? j["normalizer"] : json();
    if (!n.is_null()) {
      if (n.value("type", std::string()) != "BertNormalizer")
        throw Error(ErrorCode::not_supported,
                    fmt::format("tokenizer file {}: normalizer '{}'; only BertNormalizer is "
                                "supported",
                                path, n.value("type", std::string("?"))));
      t.opt_.clean_text = flag(n, "clean_text", true);
      t.opt_.chinese_chars = flag(n, "handle_chinese_chars", true);
      t.opt_.lowercase = flag(n, "lowercase", true);
      t.opt_.strip_accents = flag(n, "strip_accents", t.opt_.lowercase);
    } else {
      t.opt_ = Options{false, false, false, false, t.opt_.prefix, t.opt_.max_chars};
    }
    const json& p = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json();
    if (!p.is_object() || p.value("type", std::string()) != "BertPreTokenizer")
      throw Error(ErrorCode::not_supported,
                  fmt::format("tokenizer file {}: the pre-tokenizer must be BertPreTokenizer",
                              path));
    const json& post = j.contains("post_processor") ? j["post_processor"] : json();
    t.cls_ = special_from(post, "[CLS]", "cls");
    t.sep_ = special_from(post, "[SEP]", "sep");
    if (t.cls_ < 0) t.cls_ = t.token_id("[CLS]");
    if (t.sep_ < 0) t.sep_ = t.token_id("[SEP]");
    if (t.cls_ < 0 || t.sep_ < 0) bad(path, "no [CLS] / [SEP] token");
    t.pad_ = 0;
    if (j.contains("padding") && j["padding"].is_object() && j["padding"].contains("pad_id"))
      t.pad_ = j["padding"]["pad_id"].get<std::int32_t>();
    else if (t.token_id("[PAD]") >= 0)
      t.pad_ = t.token_id("[PAD]");
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      for (const json& a : j["added_tokens"]) {
        const std::string content = a.at("content").get<std::string>();
        if (!content.empty()) t.added_.emplace_back(content, a.at("id").get<std::int32_t>());
      }
      // Longest first, so that a token that starts another is not matched inside it.
      for (const auto& [content, id] : t.added_) {
        if (id < 0) bad(path, fmt::format("added token '{}' has a negative id", content));
        if (id >= t.vocab_size_) {
          t.vocab_size_ = std::int64_t(id) + 1;
          t.tokens_.resize(static_cast<std::size_t>(t.vocab_size_));
        }
        t.tokens_[static_cast<std::size_t>(id)] = content;
      }
      std::stable_sort(t.added_.begin(), t.added_.end(), [](const auto& a, const auto& b) {
        return a.first.size() > b.first.size();
      });
    }
  } catch (const json::exception& e) {
    bad(path, fmt::format("unexpected structure ({})", e.what()));
  }
  return t;
}

std::int32_t WordPieceTokenizer::token_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

std::string WordPieceTokenizer::normalize(const std::string& text) const {
  std::u32string s = uc::decode(text);
  std::u32string r;
  r.reserve(s.size());
  for (char32_t c : s) {
    if (opt_.clean_text) {
      const bool ws = c == '\t' || c == '\n' || c == '\r' || uc::is_whitespace(c);
      if (c == 0 || c == 0xFFFD || (!ws && uc::is_other(c))) continue;
      if (ws) c = ' ';
    }
    if (opt_.chinese_chars && uc::is_cjk(c)) {
      r.push_back(' ');
      r.push_back(c);
      r.push_back(' ');
    } else {
      r.push_back(c);
    }
  }
  if (opt_.strip_accents) {
    s = uc::nfd(r);
    r.clear();
    for (char32_t c : s)
      if (!uc::is_nonspacing_mark(c)) r.push_back(c);
  }
  if (opt_.lowercase)
    for (char32_t& c : r) c = uc::to_lower(c);
  return uc::encode(r);
}

void WordPieceTokenizer::wordpiece(const std::string& word, std::vector<std::int32_t>& out) const {
  const std::u32string w = uc::decode(word);
  if (static_cast<std::int64_t>(w.size()) > opt_.max_chars) {
    out.push_back(unk_);
    return;
  }
  std::vector<std::int32_t> ids;
  std::size_t start = 0;
  while (start < w.size()) {
    std::int32_t found = -1;
    std::size_t end = w.size();
    for (; end > start; --end) {
      std::string piece = start > 0 ? opt_.prefix : std::string();
      piece += uc::encode(w.substr(start, end - start));
      found = token_id(piece);
      if (found >= 0) break;
    }
    if (found < 0) {  // the word cannot be covered: one [UNK] for all of it
      out.push_back(unk_);
      return;
    }
    ids.push_back(found);
    start = end;
  }
  out.insert(out.end(), ids.begin(), ids.end());
}

// Normalises a stretch of text without special tokens, splits it into words and punctuation,
// and appends their word pieces.
void WordPieceTokenizer::pieces(const std::string& text, std::vector<std::int32_t>& out) const {
  const std::u32string s = uc::decode(normalize(text));
  std::u32string word;
  auto flush = [&] {
    if (!word.empty()) wordpiece(uc::encode(word), out);
    word.clear();
  };
  for (char32_t c : s) {
    if (uc::is_whitespace(c)) {
      flush();
    } else if (uc::is_punctuation(c)) {
      flush();
      word.push_back(c);
      flush();
    } else {
      word.push_back(c);
    }
  }
  flush();
}

std::vector<std::int32_t> WordPieceTokenizer::piece_ids(const std::string& text) const {
  std::vector<std::int32_t> ids;
  std::size_t pos = 0;
  // Special tokens written in the text are matched on the raw text, leftmost first.
  while (pos < text.size()) {
    std::size_t best = std::string::npos;
    std::int32_t best_id = -1;
    std::size_t best_len = 0;
    for (const auto& [content, id] : added_) {
      const std::size_t at = text.find(content, pos);
      if (at != std::string::npos && (best == std::string::npos || at < best)) {
        best = at;
        best_id = id;
        best_len = content.size();
      }
    }
    pieces(text.substr(pos, best == std::string::npos ? std::string::npos : best - pos), ids);
    if (best == std::string::npos) break;
    ids.push_back(best_id);
    pos = best + best_len;
  }
  return ids;
}

std::vector<std::string> WordPieceTokenizer::tokenize(const std::string& text) const {
  const std::vector<std::int32_t> ids = piece_ids(text);
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (std::int32_t id : ids) out.push_back(tokens_[static_cast<std::size_t>(id)]);
  return out;
}

std::vector<std::int32_t> WordPieceTokenizer::encode(const std::string& text,
                                                     std::int64_t max_length) const {
  if (max_length < 2)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("WordPieceTokenizer::encode: max_length {} leaves no room for [CLS] "
                            "and [SEP]",
                            max_length));
  std::vector<std::int32_t> ids{cls_};
  for (std::int32_t id : piece_ids(text)) ids.push_back(id);
  if (static_cast<std::int64_t>(ids.size()) > max_length - 1)
    ids.resize(static_cast<std::size_t>(max_length - 1));
  ids.push_back(sep_);
  return ids;
}

TokenBatch WordPieceTokenizer::encode_batch(const std::vector<std::string>& texts,
                                            std::int64_t max_length) const {
  TokenBatch b;
  b.batch = static_cast<std::int64_t>(texts.size());
  std::vector<std::vector<std::int32_t>> all;
  all.reserve(texts.size());
  for (const std::string& t : texts) {
    all.push_back(encode(t, max_length));
    b.length = std::max<std::int64_t>(b.length, static_cast<std::int64_t>(all.back().size()));
  }
  const auto size = static_cast<std::size_t>(b.batch * b.length);
  b.ids.assign(size, pad_);
  b.type_ids.assign(size, 0);
  b.mask.assign(size, 0);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::size_t row = i * static_cast<std::size_t>(b.length);
    std::copy(all[i].begin(), all[i].end(), b.ids.begin() + static_cast<std::ptrdiff_t>(row));
    std::fill_n(b.mask.begin() + static_cast<std::ptrdiff_t>(row), all[i].size(), 1);
    b.lengths.push_back(static_cast<std::int64_t>(all[i].size()));
  }
  return b;
}

}  // namespace mpe::text
