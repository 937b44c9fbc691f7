// .npy reader. Accepted files give a tensor whose element count matches its shape; writing it
// and reading it back gives the same dtype, shape and bytes.
#include <cstring>

#include <mpe/npy.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzz::scratch("in.npy"), out = fuzz::scratch("out.npy");
  fuzz::write_file(in, data, size);
  Tensor t;
  try {
    t = read_npy(in);
  } catch (const Error&) {
    return 0;
  }
  std::int64_t n = 1;
  for (auto d : t.shape()) {
    MPE_FUZZ_CHECK(d >= 0, "a negative extent");
    n *= d;
  }
  MPE_FUZZ_CHECK(n == t.numel(), "element count differs from the shape");
  try {
    write_npy(out, t);
    const Tensor back = read_npy(out);
    MPE_FUZZ_CHECK(back.dtype() == t.dtype() && back.shape() == t.shape(),
                   "dtype or shape changed");
    MPE_FUZZ_CHECK(back.nbytes() == t.nbytes() &&
                       (t.nbytes() == 0 || std::memcmp(back.raw(), t.raw(), t.nbytes()) == 0),
                   "the values changed");
  } catch (const Error& e) {
    fuzz::fail(std::string("write_npy + read_npy failed: ") + e.what());
  }
  return 0;
}
