// Edge-list reader (relabelled ids, and numeric ids, chosen by the first byte). Accepted files
// give an in-range COO; its CSR validates; writing it as CSV and reading it back (numeric ids,
// header) gives the same CSR.
#include <cmath>

#include <mpe/graph.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  EdgeListOptions opt;
  opt.relabel = (data[0] & 1) != 0;
  opt.header = (data[0] & 2) != 0;
  const std::string in = fuzz::scratch("in.edges"), out = fuzz::scratch("out.csv");
  fuzz::write_file(in, data + 1, size - 1);
  EdgeList el;
  try {
    el = read_edge_list(in, opt);
  } catch (const Error&) {
    return 0;
  }
  const Coo& coo = el.coo;
  MPE_FUZZ_CHECK(coo.num_rows == coo.num_cols, "an edge list is square");
  MPE_FUZZ_CHECK(!opt.relabel || el.node_ids.size() == static_cast<std::size_t>(coo.num_rows),
                 "one original id per node");
  for (std::size_t k = 0; k < coo.rows.size(); ++k) {
    MPE_FUZZ_CHECK(coo.rows[k] >= 0 && coo.rows[k] < coo.num_rows, "source out of range");
    MPE_FUZZ_CHECK(coo.cols[k] >= 0 && coo.cols[k] < coo.num_cols, "target out of range");
    MPE_FUZZ_CHECK(coo.weights.empty() || std::isfinite(coo.weights[k]), "weight not finite");
  }
  Csr csr;
  try {
    csr = csr_from_coo(coo);
  } catch (const Error& e) {
    MPE_FUZZ_CHECK(e.code() == ErrorCode::out_of_memory,
                   std::string("an accepted edge list does not build: ") + e.what());
    return 0;
  }
  try {
    validate(csr);
    write_edge_list_csv(out, csr);
    EdgeListOptions back_opt;
    back_opt.header = true;
    Coo back = read_edge_list(out, back_opt).coo;
    // Nodes without edges after the last one written are not in the file: same size again.
    back.num_rows = back.num_cols = coo.num_rows;
    MPE_FUZZ_CHECK(fuzz::same_csr(csr, csr_from_coo(back)), "write + read changed the graph");
  } catch (const Error& e) {
    fuzz::fail(std::string("an accepted edge list fails validate or its round trip: ") + e.what());
  }
  return 0;
}
