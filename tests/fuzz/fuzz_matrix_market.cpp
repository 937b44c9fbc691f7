// Matrix Market reader. Accepted files give an in-range COO; when its CSR can be built, the
// CSR validates, and writing it and reading it back gives the same CSR.
#include <climits>
#include <cmath>

#include <mpe/graph.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzz::scratch("in.mtx"), out = fuzz::scratch("out.mtx");
  fuzz::write_file(in, data, size);
  Coo coo;
  try {
    coo = read_matrix_market(in);
  } catch (const Error&) {
    return 0;
  }
  MPE_FUZZ_CHECK(coo.rows.size() == coo.cols.size(), "rows and cols of different lengths");
  MPE_FUZZ_CHECK(coo.weights.empty() || coo.weights.size() == coo.rows.size(), "weight count");
  for (std::size_t k = 0; k < coo.rows.size(); ++k) {
    MPE_FUZZ_CHECK(coo.rows[k] >= 0 && coo.rows[k] < coo.num_rows, "row out of range");
    MPE_FUZZ_CHECK(coo.cols[k] >= 0 && coo.cols[k] < coo.num_cols, "column out of range");
    MPE_FUZZ_CHECK(coo.weights.empty() || std::isfinite(coo.weights[k]), "weight not finite");
  }
  Csr csr;
  try {
    csr = csr_from_coo(coo);
  } catch (const Error& e) {
    MPE_FUZZ_CHECK(e.code() == ErrorCode::out_of_memory ||
                       (e.code() == ErrorCode::invalid_graph && coo.num_cols > INT_MAX),
                   std::string("an accepted COO does not build: ") + e.what());
    return 0;
  }
  try {
    validate(csr);
    write_matrix_market(out, csr);
    const Csr back = csr_from_coo(read_matrix_market(out));
    MPE_FUZZ_CHECK(fuzz::same_csr(csr, back), "write + read changed the matrix");
  } catch (const Error& e) {
    fuzz::fail(std::string("an accepted matrix fails validate or its round trip: ") + e.what());
  }
  return 0;
}
