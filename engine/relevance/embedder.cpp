// TextEmbedder: hashed character n-grams and words, signed feature hashing, L2 normalisation.
#include <cctype>
#include <cmath>
#include <string>
#include <unordered_set>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

namespace mpe::relevance {

namespace {
// FNV-1a, 64 bit, over a kind tag and the feature's bytes.
std::uint64_t fnv1a(char kind, const std::string& s, std::size_t begin, std::size_t len) {
  std::uint64_t h = 1469598103934665603ull;
  h = (h ^ static_cast<unsigned char>(kind)) * 1099511628211ull;
  for (std::size_t k = begin; k < begin + len; ++k)
    h = (h ^ static_cast<unsigned char>(s[k])) * 1099511628211ull;
  // Final avalanche (splitmix64's) so that nearby features spread over the buckets.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

// Words that carry little meaning for finding a node (English function words).
const std::unordered_set<std::string>& stopwords() {
  static const std::unordered_set<std::string> words = {
      "a",    "an",   "the",  "of",   "to",   "and",   "or",   "is",    "are",  "was",
      "be",   "been", "it",   "its",  "in",   "on",    "at",   "for",   "with", "by",
      "from", "as",   "that", "this", "these", "those", "i",   "me",    "my",   "you",
      "your", "we",   "our",  "he",   "she",  "they",  "them", "what",  "which", "who",
      "how",  "do",   "does", "did",  "can",  "could", "would", "should", "will", "not",
      "no",   "so",   "if",   "then", "than", "but",   "about", "into", "some", "any",
      "all",  "just", "very", "please", "there", "here", "when", "where", "while", "also"};
  return words;
}

constexpr float kWordWeight = 1.0f;   // whole-word feature
constexpr float kGramWeight = 0.35f;  // each character n-gram of a word
}  // namespace

TextEmbedder::TextEmbedder(int dim) : dim_(dim) {
  if (dim < 8)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("TextEmbedder: dimension {} must be >= 8", dim));
}

std::vector<float> TextEmbedder::embed(const std::string& text) const {
  std::vector<double> acc(static_cast<std::size_t>(dim_), 0.0);
  auto add = [&](std::uint64_t h, float w) {
    const std::size_t bucket = static_cast<std::size_t>(h % static_cast<std::uint64_t>(dim_));
    acc[bucket] += (h >> 63) ? -w : w;
  };
  std::string word;
  auto flush = [&] {
    if (word.empty() || stopwords().count(word)) {
      word.clear();
      return;
    }
    add(fnv1a('w', word, 0, word.size()), kWordWeight);
    const std::string padded = "<" + word + ">";
    for (std::size_t n = 3; n <= 5; ++n) {
      if (padded.size() < n) break;
      for (std::size_t k = 0; k + n <= padded.size(); ++k)
        add(fnv1a(char('0' + n), padded, k, n), kGramWeight);
    }
    word.clear();
  };
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      word.push_back(c < 0x80 ? static_cast<char>(std::tolower(c)) : ch);
    } else {
      flush();
    }
  }
  flush();
  double norm = 0;
  for (double v : acc) norm += v * v;
  std::vector<float> out(static_cast<std::size_t>(dim_), 0.0f);
  if (norm > 0) {
    const double inv = 1.0 / std::sqrt(norm);
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<float>(acc[k] * inv);
  }
  return out;
}

}  // namespace mpe::relevance
