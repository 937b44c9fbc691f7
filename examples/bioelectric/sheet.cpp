// A sheet of cells joined by gap junctions, with two clamped "organiser" regions (a depolarised
// head stripe at the top, a hyperpolarised tail stripe at the bottom), leak toward a resting
// potential and a wall of weak junctions with an opening in the middle. Voltage diffuses from
// the organisers through the opening and settles into a head-to-tail pattern; a PGM image of
// the sheet (black = -90 mV, white = -10 mV) is written every N steps.
//
//   bio_sheet [out_dir=bio_frames] [size=96] [steps=4000] [every=500] [device=cpu|cuda]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <mpe/bioelectric.hpp>
#include <mpe/device.hpp>

namespace {

void write_pgm(const std::string& path, const std::vector<float>& v, std::int64_t n) {
  std::ofstream f(path, std::ios::binary);
  f << "P5\n" << n << " " << n << "\n255\n";
  for (float x : v) {
    const float t = (x + 90.0f) / 80.0f;
    f.put(static_cast<char>(static_cast<unsigned char>(t <= 0 ? 0 : t >= 1 ? 255 : t * 255.0f)));
  }
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string out = argc > 1 ? argv[1] : "bio_frames";
    const std::int64_t n = argc > 2 ? std::stoll(argv[2]) : 96;
    const std::int64_t steps = argc > 3 ? std::stoll(argv[3]) : 4000;
    const std::int64_t every = argc > 4 ? std::stoll(argv[4]) : 500;
    const mpe::Device device = mpe::parse_device(argc > 5 ? argv[5] : "cpu");
    if (n < 8 || steps < 0 || every < 1)
      throw std::runtime_error("need size >= 8, steps >= 0, every >= 1");
    std::filesystem::create_directories(out);

    // 4-neighbour sheet; junctions crossing the wall row (n/2) are 100x weaker except in the
    // middle fifth of the sheet.
    mpe::Csr sheet = mpe::bio::grid_junctions(n, n, 1.0f);
    std::vector<std::int64_t> off = sheet.row_offsets.to_vector<std::int64_t>();
    std::vector<std::int32_t> col = sheet.col_indices.to_vector<std::int32_t>();
    std::vector<float> g(static_cast<std::size_t>(sheet.nnz()),
                         1.0f);  // unit junctions: unweighted
    const std::int64_t wall = n / 2;
    for (std::int64_t i = 0; i < n * n; ++i) {
      for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
        const std::int64_t r1 = i / n, r2 = col[e] / n, c = i % n;
        const bool crosses = (r1 == wall && r2 == wall - 1) || (r1 == wall - 1 && r2 == wall);
        if (crosses && (c < 2 * n / 5 || c >= 3 * n / 5)) g[static_cast<std::size_t>(e)] = 0.01f;
      }
    }
    sheet.weights = mpe::Tensor::from_vector(g, {sheet.nnz()});
    sheet = sheet.to(device);

    std::vector<float> v0(static_cast<std::size_t>(n * n), -60.0f);
    std::vector<std::uint8_t> clamped(v0.size(), 0);
    for (std::int64_t c = n / 4; c < 3 * n / 4; ++c) {
      for (std::int64_t r : {std::int64_t(2), std::int64_t(3)}) {  // head stripe
        v0[static_cast<std::size_t>(r * n + c)] = -10.0f;
        clamped[static_cast<std::size_t>(r * n + c)] = 1;
      }
      for (std::int64_t r : {n - 4, n - 3}) {  // tail stripe
        v0[static_cast<std::size_t>(r * n + c)] = -90.0f;
        clamped[static_cast<std::size_t>(r * n + c)] = 1;
      }
    }
    mpe::Tensor v = mpe::Tensor::from_vector(v0, {n * n}, device);
    const mpe::bio::DiffusionParams params{0.2f, 0.002f, -60.0f};  // dt·(4g + leak) < 1
    int frame = 0;
    for (std::int64_t done = 0;; done += every) {
      char name[64];
      std::snprintf(name, sizeof name, "/frame_%04d.pgm", frame++);
      write_pgm(out + name, v.to_vector<float>(), n);
      if (done >= steps) break;
      mpe::bio::diffuse(sheet, v, params, std::min(every, steps - done), clamped);
    }
    std::printf("wrote %d frames (%lld x %lld cells, %lld steps, %s) to %s\n", frame,
                static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(steps),
                device.str().c_str(), out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bio_sheet: %s\n", e.what());
    return 1;
  }
}
