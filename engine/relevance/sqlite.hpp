#pragma once
// A thin RAII layer over SQLite's C API for the relevance store: a connection, prepared
// statements and transactions; every failure becomes mpe::Error naming the file and the call.
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace mpe::relevance::sql {

class Db {
 public:
  // Opens (create = true: creates) a database file; ":memory:" for an in-memory one.
  Db(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  void exec(const std::string& sql);
  sqlite3* handle() const { return db_; }
  std::int64_t last_rowid() const;
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Stmt {
 public:
  Stmt(Db& db, const std::string& sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, const std::string& v);
  Stmt& bind_blob(int i, const void* data, std::size_t bytes);
  Stmt& bind_null(int i);
  // Steps once: true when a row is available, false when done.
  bool step();
  // Steps to completion and resets for reuse.
  void run();
  void reset();
  std::int64_t col_int(int i) const;
  double col_double(int i) const;
  std::string col_text(int i) const;
  bool col_null(int i) const;
  std::vector<float> col_floats(int i) const;  // a float32 blob

 private:
  Db& db_;
  sqlite3_stmt* st_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace mpe::relevance::sql
