// SQLite wrapper of the relevance store (see sqlite.hpp).
#include "relevance/sqlite.hpp"

#include <sqlite3.h>

#include <cstring>

#include <fmt/format.h>
#include <mpe/error.hpp>

namespace mpe::relevance::sql {

namespace {
// SQLITE_BUSY after the busy timeout: another connection holds the lock.
bool locked(sqlite3* db) { return (sqlite3_extended_errcode(db) & 0xff) == SQLITE_BUSY; }
constexpr int kBusyTimeoutMs = 10000;
}  // namespace

Db::Db(const std::string& path, bool create) : path_(path) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
                    SQLITE_OPEN_FULLMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorCode::io_error, fmt::format("relevance store {}: cannot open: {}", path, msg));
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() { sqlite3_close(db_); }

std::int64_t Db::last_rowid() const { return sqlite3_last_insert_rowid(db_); }

void Db::fail(const std::string& what) const {
  if ((sqlite3_extended_errcode(db_) & 0xff) == SQLITE_FULL) {
    throw Error(ErrorCode::io_error,
                fmt::format("relevance store {}: {}: the store is full (the disk, or the cap of "
                            "set_max_file_bytes); nothing was written",
                            path_, what));
  }
  if (locked(db_)) {
    throw Error(ErrorCode::busy,
                fmt::format("relevance store {}: {}: the file stayed locked by another "
                            "connection for {} s ({})",
                            path_, what, kBusyTimeoutMs / 1000, sqlite3_errmsg(db_)));
  }
  throw Error(ErrorCode::io_error,
              fmt::format("relevance store {}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    if (locked(db_) || (sqlite3_extended_errcode(db_) & 0xff) == SQLITE_FULL) {
      fail(fmt::format("'{}'", sql.substr(0, 60)));
    }
    throw Error(ErrorCode::io_error, fmt::format("relevance store {}: '{}' failed: {}", path_,
                                                 sql.substr(0, 60), msg));
  }
}

Stmt::Stmt(Db& db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &st_, nullptr) != SQLITE_OK) {
    db.fail(fmt::format("preparing '{}'", sql.substr(0, 60)));
  }
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  if (sqlite3_bind_double(st_, i, v) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Stmt& Stmt::bind(int i, const std::string& v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    db_.fail("bind");
  return *this;
}
Stmt& Stmt::bind_blob(int i, const void* data, std::size_t bytes) {
  if (sqlite3_bind_blob64(st_, i, data, bytes, SQLITE_TRANSIENT) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(st_, i) != SQLITE_OK) db_.fail("bind");
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(fmt::format("executing '{}'", std::string(sqlite3_sql(st_)).substr(0, 60)));
}

void Stmt::run() {
  while (step()) {
  }
  reset();
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::int64_t Stmt::col_int(int i) const { return sqlite3_column_int64(st_, i); }
double Stmt::col_double(int i) const { return sqlite3_column_double(st_, i); }
std::string Stmt::col_text(int i) const {
  const unsigned char* t = sqlite3_column_text(st_, i);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<std::size_t>(sqlite3_column_bytes(st_, i)))
           : std::string();
}
bool Stmt::col_null(int i) const { return sqlite3_column_type(st_, i) == SQLITE_NULL; }
std::vector<float> Stmt::col_floats(int i) const {
  const void* p = sqlite3_column_blob(st_, i);
  const std::size_t bytes = static_cast<std::size_t>(sqlite3_column_bytes(st_, i));
  std::vector<float> v(bytes / sizeof(float));
  if (p && bytes) std::memcpy(v.data(), p, v.size() * sizeof(float));
  return v;
}

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace mpe::relevance::sql
