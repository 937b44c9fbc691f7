// CPU dense transform y = act(x·Wᵀ + bias [+ y]) (body: dense_linear_body.hpp), also built for
// x86-64-v3 and -v4 (kernels/cpu/isa/) and chosen at run time; the packing of W for callers
// that reuse it goes to the same build, so its panel width matches.
#include "cpu/cpu_level.hpp"
#include "cpu/dense_linear_body.hpp"

#if MPE_CPU_V3
namespace mpe::kernels_x86_64_v3 {
void dense_linear_cpu_level(const void* args);
std::int64_t dense_linear_panel_cols_level();
void dense_linear_pack_level(const float* w, std::int64_t m, std::int64_t k, float* out);
}  // namespace mpe::kernels_x86_64_v3
#endif
#if MPE_CPU_V4
namespace mpe::kernels_x86_64_v4 {
void dense_linear_cpu_level(const void* args);
std::int64_t dense_linear_panel_cols_level();
void dense_linear_pack_level(const float* w, std::int64_t m, std::int64_t k, float* out);
}  // namespace mpe::kernels_x86_64_v4
#endif

namespace mpe::kernels {

void dense_linear_cpu(const DenseLinearArgs& a) {
  const int level = cpu_level(kCpuWidestBuilt);
  (void)level;
#if MPE_CPU_V4
  if (level == 4) return kernels_x86_64_v4::dense_linear_cpu_level(&a);
#endif
#if MPE_CPU_V3
  if (level == 3) return kernels_x86_64_v3::dense_linear_cpu_level(&a);
#endif
  dense_linear_cpu_body(a);
}

std::int64_t dense_linear_panel_cols_cpu() {
  const int level = cpu_level(kCpuWidestBuilt);
  (void)level;
#if MPE_CPU_V4
  if (level == 4) return kernels_x86_64_v4::dense_linear_panel_cols_level();
#endif
#if MPE_CPU_V3
  if (level == 3) return kernels_x86_64_v3::dense_linear_panel_cols_level();
#endif
  return dense_linear_detail::kCols;
}

void dense_linear_pack_cpu(const float* w, std::int64_t m, std::int64_t k, float* out) {
  const int level = cpu_level(kCpuWidestBuilt);
  (void)level;
#if MPE_CPU_V4
  if (level == 4) return kernels_x86_64_v4::dense_linear_pack_level(w, m, k, out);
#endif
#if MPE_CPU_V3
  if (level == 3) return kernels_x86_64_v3::dense_linear_pack_level(w, m, k, out);
#endif
  dense_linear_pack_body(w, m, k, out);
}

}  // namespace mpe::kernels
