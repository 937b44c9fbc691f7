#pragma once
/// @file graph.hpp
/// Compressed sparse row graphs: building from edge lists, validation, and device copies.
///
/// Convention: row i of the CSR lists the in-edges of node i (pull), so aggregation reads
/// y[i] from x[col] over row i. An edge list read from a file keeps row = source,
/// col = target as written; pass it through transposed() first to pull along its edges.

#include <cstdint>
#include <string>
#include <vector>

#include <mpe/tensor.hpp>

namespace mpe {

/// A sparse matrix / graph in CSR form, stored as tensors so it can live on any device.
struct Csr {
  std::int64_t num_rows = 0;  ///< rows (destination nodes)
  std::int64_t num_cols = 0;  ///< columns (source nodes); equals num_rows for a graph
  Tensor row_offsets;         ///< int64 [num_rows + 1], monotone, row_offsets[0] == 0
  Tensor col_indices;         ///< int32 [nnz], each in [0, num_cols)
  Tensor weights;             ///< float32 [nnz], or undefined when every weight is 1

  /// Number of stored entries (edges).
  std::int64_t nnz() const;
  /// True when edge weights are stored.
  bool weighted() const { return weights.defined(); }
  /// Device the arrays live on.
  Device device() const { return row_offsets.device(); }
  /// Deep copy of all arrays on `device`.
  Csr to(Device device) const;
};

/// Coordinate (COO) entries on the host: row[k], col[k] and an optional weight[k].
struct Coo {
  std::int64_t num_rows = 0;       ///< rows of the matrix
  std::int64_t num_cols = 0;       ///< columns of the matrix
  std::vector<std::int64_t> rows;  ///< row of each entry
  std::vector<std::int64_t> cols;  ///< column of each entry
  std::vector<float> weights;      ///< empty (all 1) or one per entry
};

/// What to do with repeated (row, col) entries.
/// AGGREGATE: how a node combines the messages of its row, feature by feature (csr_aggregate
/// and the message-passing layer).
enum class Aggregation {
  sum,       ///< Σ m; an empty row gives 0
  mean,      ///< Σ m / degree; empty gives 0
  max,       ///< max m; empty gives 0
  min,       ///< min m; empty gives 0
  logsumexp  ///< log Σ exp(m), for log-probability messages; messages <= kLogZero/2 count as
             ///< log 0, and an empty row (or one of only log-0 messages) gives kLogZero
};
/// "sum", "mean", "max", "min", "logsumexp".
const char* aggregation_name(Aggregation a) noexcept;
/// Parses an aggregation name; throws Error(invalid_argument) listing the accepted names.
Aggregation parse_aggregation(const std::string& name);

enum class Duplicates {
  keep,  ///< keep all of them (a multigraph)
  sum,   ///< merge into one entry whose weight is the sum
  max,   ///< merge, keeping the largest weight
  first  ///< merge, keeping the weight of the first occurrence in input order
};

/// Options for csr_from_coo.
struct CsrBuildOptions {
  bool sort_columns = true;                  ///< sort each row's columns ascending (stable)
  Duplicates duplicates = Duplicates::keep;  ///< how to treat repeated entries
  bool symmetrize = false;                   ///< add (col, row) for every (row, col); square only
  bool add_self_loops = false;               ///< add (i, i) where missing; square only
  float self_loop_weight = 1.0f;             ///< weight of added self-loops
};

/// Builds a CSR on the host. The COO is validated first: indices in range, weights finite,
/// weights empty or one per entry; violations throw Error(invalid_graph) naming the entry.
/// Symmetrising merges an entry with its mirror only under a merging Duplicates policy.
Csr csr_from_coo(const Coo& coo, const CsrBuildOptions& options = {});

/// Checks a CSR (on any device; device arrays are copied to the host to check): dtypes and
/// sizes, row_offsets[0] == 0 and monotone, row_offsets[num_rows] == nnz, column indices in
/// range, weights finite. Throws Error(invalid_graph) naming the first offending index.
void validate(const Csr& csr);

/// Degree (entries per row) of every row, on the host. Throws Error(invalid_graph) when
/// row_offsets is not int64 [num_rows + 1].
std::vector<std::int64_t> row_degrees(const Csr& csr);

/// The same entries with rows and columns swapped (edge directions reversed).
Coo transposed(const Coo& coo);

/// Converts a CSR back to COO on the host, in row-major order. The CSR is validated first
/// (Error(invalid_graph) for a broken one).
Coo csr_to_coo(const Csr& csr);

// ---------------------------------------------------------------- files

/// Reads a Matrix Market file (`coordinate` real|integer|pattern, general|symmetric|
/// skew-symmetric; 1-based indices). Symmetric files are expanded to both triangles. Malformed
/// files throw Error(parse_error) with the file name and line number.
Coo read_matrix_market(const std::string& path);

/// Writes `csr` as a general real coordinate Matrix Market file (pattern when unweighted).
/// The file is written to a temporary name and renamed, so a failure leaves no partial file.
void write_matrix_market(const std::string& path, const Csr& csr);

/// Options for reading an edge list.
struct EdgeListOptions {
  /// Map arbitrary node ids to 0..n-1 in order of first appearance (needed for data sets
  /// such as Cora whose ids are sparse). When false, ids must be non-negative integers and
  /// the node count is max id + 1.
  bool relabel = false;
  /// Skip the first non-comment line (a header such as "src,dst,weight").
  bool header = false;
};

/// Result of reading an edge list: the edges as COO (row = source, col = target, as written)
/// and, with relabelling, the original id of each node.
struct EdgeList {
  Coo coo;                            ///< entries in file order
  std::vector<std::string> node_ids;  ///< original ids (relabel only)
};

/// Reads an edge list: one edge per line, "src dst [weight]" separated by commas, tabs or
/// spaces; '#' and '%' start comments. Malformed lines throw Error(parse_error) with file and
/// line.
EdgeList read_edge_list(const std::string& path, const EdgeListOptions& options = {});

/// Writes "src,dst[,weight]" lines with a header, atomically (temporary file and rename).
void write_edge_list_csv(const std::string& path, const Csr& csr);

}  // namespace mpe
