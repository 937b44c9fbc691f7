// Built when METIS is not found: PartitionMethod::metis is refused, automatic is contiguous.
#include <mpe/error.hpp>

#include "dist/metis_parts.hpp"

namespace mpe::dist::detail {
const bool kMetisBuilt = false;
std::vector<int> metis_parts(const Csr&, int, bool) {
  throw Error(ErrorCode::not_supported,
              "partition: this build has no METIS (install libmetis-dev and reconfigure), use "
              "contiguous");
}
}  // namespace mpe::dist::detail
