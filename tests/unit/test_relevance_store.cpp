// Relevance store files: CSV import/export round trip (quoting, Neo4j headers, embeddings
// from .npy), persistence across reopening, schema version, and bad files that change nothing.
#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <mpe/npy.hpp>
#include <mpe/relevance.hpp>

#include "support/errors.hpp"

namespace mpe::test {
namespace {
using namespace mpe::relevance;

std::string tmp(const std::string& name) {
  const std::string p = ::testing::TempDir() + "rel_" + name;
  std::remove(p.c_str());
  std::remove((p + "-wal").c_str());
  std::remove((p + "-shm").c_str());
  return p;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// Quoted fields with commas, quotes and a newline; CRLF line ends; optional columns.
const char* kNodes =
    "id,type,title,content,universal,level,residual,decay,threshold,type_weights\r\n"
    "cap,capability,\"Image generation, fast\",\"Draws \"\"pictures\"\"\nof anything\",false,0,"
    "0.5,0.9,0,\r\n"
    "c1,constraint,Never mention cost,Do not talk about price,,1,0.25,0.8,0.01,"
    "HAS_CONSTRAINT=1.5;REQUIRES=0.5\r\n"
    "u1,constraint,Language matching,Answer in the user's language,true,,,,,\r\n";
const char* kEdges =
    "source,target,type,weight,confidence,success_rate\n"
    "cap,c1,HAS_CONSTRAINT,0.8,0.9,0.4\n"
    "c1,u1,APPLIES_TO,0.3,,\n";

TEST(RelevanceStoreFiles, CsvRoundTripKeepsEverything) {
  const std::string dir = ::testing::TempDir();
  write_file(dir + "rel_nodes.csv", kNodes);
  write_file(dir + "rel_edges.csv", kEdges);
  const std::string db = tmp("roundtrip.db");
  {
    Store s = Store::import(db, dir + "rel_nodes.csv", dir + "rel_edges.csv");
    EXPECT_EQ(s.stats().embedder, "hashed-ngram-v1");
  }
  Store s = Store::open(db);  // persisted
  ASSERT_EQ(s.num_nodes(), 3);
  const Node cap = s.node(0), c1 = s.node(1), u1 = s.node(2);
  EXPECT_EQ(cap.title, "Image generation, fast");
  EXPECT_EQ(cap.content, "Draws \"pictures\"\nof anything");
  EXPECT_EQ(c1.level, 1);
  EXPECT_FLOAT_EQ(c1.residual, 0.25f);
  EXPECT_FLOAT_EQ(c1.decay, 0.8f);
  EXPECT_FLOAT_EQ(c1.threshold, 0.01f);
  EXPECT_FLOAT_EQ(c1.type_weights.at("HAS_CONSTRAINT"), 1.5f);
  EXPECT_TRUE(u1.universal);
  EXPECT_FLOAT_EQ(u1.residual, 0.5f);  // empty field: the default
  const auto edges = s.edges();
  ASSERT_EQ(edges.size(), 2u);
  EXPECT_EQ(edges[0].type, "HAS_CONSTRAINT");
  EXPECT_FLOAT_EQ(edges[0].success_rate, 0.4f);
  EXPECT_FLOAT_EQ(edges[1].confidence, 0.5f);
  // The embedding is the text embedder's of "title. content".
  s.export_csv(dir + "rel_export1");
  const std::vector<float> emb = read_npy_f32(dir + "rel_export1/embeddings.npy").to_vector<float>();
  ASSERT_EQ(emb.size(), 3u * 256u);
  const std::vector<float> want = TextEmbedder(256).embed(cap.title + ". " + cap.content);
  for (std::size_t k = 0; k < 256; ++k) EXPECT_FLOAT_EQ(emb[k], want[k]);
  // Re-import the export (embeddings from the .npy) and export again: identical files.
  ImportOptions opt;
  opt.embeddings_npy = dir + "rel_export1/embeddings.npy";
  const std::string db2 = tmp("roundtrip2.db");
  Store s2 = Store::import(db2, dir + "rel_export1/nodes.csv", dir + "rel_export1/edges.csv", opt);
  EXPECT_EQ(s2.stats().embedder, "external");
  s2.export_csv(dir + "rel_export2");
  for (const char* f : {"/nodes.csv", "/edges.csv", "/embeddings.npy"})
    EXPECT_EQ(read_file(dir + "rel_export1" + f), read_file(dir + "rel_export2" + f)) << f;
  // And queries agree.
  Query q;
  q.seeds = {{"cap", 0.9f}};
  q.params.types = {};
  EXPECT_EQ(s.query(q).active, s2.query(q).active);
}

TEST(RelevanceStoreFiles, Neo4jStyleHeaders) {
  const std::string dir = ::testing::TempDir();
  write_file(dir + "rel_neo_nodes.csv",
             "\xEF\xBB\xBF:ID,:LABEL,title,content\na,capability,A,alpha\nb,constraint,B,beta\n");
  write_file(dir + "rel_neo_edges.csv", ":START_ID,:END_ID,:TYPE,weight:float\na,b,REQUIRES,0.7\n");
  Store s = Store::in_memory(64);
  ImportOptions opt;
  opt.embed_dim = 64;
  s.import_csv(dir + "rel_neo_nodes.csv", dir + "rel_neo_edges.csv", opt);
  EXPECT_EQ(s.find("b"), 1);
  ASSERT_EQ(s.edges().size(), 1u);
  EXPECT_FLOAT_EQ(s.edges()[0].weight, 0.7f);
}

TEST(RelevanceStoreFiles, BadFilesNameFileAndLineAndChangeNothing) {
  const std::string dir = ::testing::TempDir();
  write_file(dir + "rel_nodes.csv", kNodes);
  write_file(dir + "rel_edges.csv", kEdges);
  const std::string db = tmp("bad.db");
  Store s = Store::import(db, dir + "rel_nodes.csv", dir + "rel_edges.csv");
  const StoreStats before = s.stats();
  auto check_unchanged = [&] {
    EXPECT_EQ(s.stats().nodes, before.nodes);
    EXPECT_EQ(s.stats().edges, before.edges);
    Store again = Store::open(db);
    EXPECT_EQ(again.stats().nodes, before.nodes);
    EXPECT_EQ(again.stats().edges, before.edges);
  };
  const std::string more_nodes = dir + "rel_more_nodes.csv";
  write_file(more_nodes, "id,type,title\nx,constraint,X\ny,guideline,Y\n");
  struct Case {
    const char* edges;
    const char* needle;
  };
  const Case cases[] = {
      {"source,target,type\nx,y,A\nx,nobody,B\n", "rel_bad_edges.csv:3: unknown target node id 'nobody'"},
      {"source,target,type\nx,y,A\nx,y,A\n", "rel_bad_edges.csv:3: duplicate edge x -[A]-> y (also"},
      {"source,target,type,weight\nx,y,A,1.5\n", "rel_bad_edges.csv:2: edge x -[A]-> y: weight 1.5"},
      {"source,target,type,weight\nx,y,A,-0.1\n", "weight -0.1 is outside [0, 1]"},
      {"source,target,type,weight\nx,y,A,abc\n", "rel_bad_edges.csv:2: weight 'abc' is not a number"},
      {"source,target,type\nx,y\n", "rel_bad_edges.csv:2: 2 fields, the header has 3"},
      {"source,type\nx,A\n", "header needs columns 'source', 'target' and 'type'"},
      {"source,target,type\ncap,c1,HAS_CONSTRAINT\n", "already in the store"},
      {"source,target,type\nx,\"y,A\n", "quoted field not closed"},
  };
  for (const Case& c : cases) {
    write_file(dir + "rel_bad_edges.csv", c.edges);
    const Error e = catch_error([&] { s.import_csv(more_nodes, dir + "rel_bad_edges.csv"); });
    EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    check_unchanged();
  }
  // Nodes: duplicate id against the store, bad numbers, missing columns.
  write_file(dir + "rel_bad_nodes.csv", "id,type,title\nz,constraint,Z\ncap,capability,again\n");
  expect_error([&] { s.import_csv(dir + "rel_bad_nodes.csv", ""); }, ErrorCode::invalid_argument,
               "rel_bad_nodes.csv:3: duplicate node id 'cap'");
  write_file(dir + "rel_bad_nodes.csv", "id,type,title,decay\nz,constraint,Z,1.2\n");
  expect_error([&] { s.import_csv(dir + "rel_bad_nodes.csv", ""); }, ErrorCode::invalid_argument,
               "rel_bad_nodes.csv:2: node 'z': decay 1.2 is outside [0, 1]");
  write_file(dir + "rel_bad_nodes.csv", "name,title\nz,Z\n");
  expect_error([&] { s.import_csv(dir + "rel_bad_nodes.csv", ""); }, ErrorCode::parse_error,
               "header needs columns 'id' and 'type'");
  check_unchanged();
  // Embeddings: wrong shape, NaN.
  ImportOptions opt;
  opt.embeddings_npy = dir + "rel_bad_emb.npy";
  write_npy(opt.embeddings_npy, Tensor::from_vector(std::vector<float>(2 * 255, 1.0f), {2, 255}));
  expect_error([&] { s.import_csv(more_nodes, "", opt); }, ErrorCode::shape_mismatch,
               "embeddings must be [2 nodes");
  std::vector<float> v(2 * 256, 0.5f);
  v[256 + 7] = NAN;
  write_npy(opt.embeddings_npy, Tensor::from_vector(v, {2, 256}));
  expect_error([&] { s.import_csv(more_nodes, "", opt); }, ErrorCode::invalid_argument,
               "row 1 (node 'y', " );
  check_unchanged();
  // A failed Store::import leaves no file behind.
  write_file(dir + "rel_bad_edges.csv", "source,target,type\nx,nobody,B\n");
  const std::string db3 = tmp("never.db");
  expect_error([&] { Store::import(db3, more_nodes, dir + "rel_bad_edges.csv"); },
               ErrorCode::invalid_argument, "unknown target node id 'nobody'");
  EXPECT_FALSE(exists(db3));
  // The good file goes in afterwards.
  s.import_csv(more_nodes, "");
  EXPECT_EQ(Store::open(db).stats().nodes, before.nodes + 2);
}

TEST(RelevanceStoreFiles, OpenChecksTheFile) {
  expect_error([] { Store::open(tmp("missing.db")); }, ErrorCode::io_error, "no such file");
  const std::string junk = tmp("junk.db");
  write_file(junk, "this is not a database at all, just text that is long enough to matter");
  expect_error([&] { Store::open(junk); }, ErrorCode::parse_error, "not a relevance store");
  const std::string db = tmp("version.db");
  { Store::create(db, 4); }
  expect_error([&] { Store::create(db, 4); }, ErrorCode::io_error, "already exists");
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  expect_error([&] { Store::open(db); }, ErrorCode::parse_error, "schema version 99 (this build reads 1)");
}

// A store written by something else may hold values an insert refuses: open names the file
// and the row (found by fuzz_store_open: an edge confidence of -8 was accepted).
TEST(RelevanceStoreFiles, OpenRefusesValuesAnInsertWouldRefuse) {
  const std::string dir = ::testing::TempDir();
  write_file(dir + "rel_nodes.csv", kNodes);
  write_file(dir + "rel_edges.csv", kEdges);
  const char* edits[][2] = {
      {"UPDATE edges SET confidence = -8 WHERE eid = 1", "confidence -8 is outside [0, 1]"},
      {"UPDATE edges SET weight = 1.5 WHERE eid = 2", "weight 1.5 is outside [0, 1]"},
      {"UPDATE nodes SET decay = 2 WHERE idx = 0", "decay 2 is outside [0, 1]"},
      {"UPDATE nodes SET threshold = -1 WHERE idx = 1", "threshold -1 is outside [0, 1]"},
  };
  for (const auto& [sql, needle] : edits) {
    const std::string db = tmp("values.db");
    { Store::import(db, dir + "rel_nodes.csv", dir + "rel_edges.csv"); }
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    sqlite3_close(h);
    expect_error([&] { Store::open(db); }, ErrorCode::parse_error, needle);
  }
}

}  // namespace
}  // namespace mpe::test
