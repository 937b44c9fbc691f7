// libDAI's BP on a .fg file, for the comparison in bench/NOTES.md ("Loopy belief propagation").
// Built beside the project against a libDAI checkout (see bench/peers/bp_compare.py):
//   g++ -O3 -I$LIBDAI/include bench/peers/libdai_bp.cpp $LIBDAI/lib/libdai.a -lgmpxx -lgmp \
//       -o /work/peers/libdai_bp
// Usage: libdai_bp FILE.fg UPDATES(PARALL|SEQFIX) INFERENCE(SUMPROD|MAXPROD) TOL MAXITER DAMPING
// Prints JSON: iterations, run seconds (BP::run only), log Z, beliefs in label order.
#include <chrono>
#include <cstdio>
#include <string>

#include <dai/bp.h>
#include <dai/factorgraph.h>

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s FILE.fg UPDATES INFERENCE TOL MAXITER DAMPING\n", argv[0]);
    return 2;
  }
  dai::FactorGraph fg;
  fg.ReadFromFile(argv[1]);
  dai::PropertySet opts;
  opts.set("maxiter", static_cast<size_t>(std::stoul(argv[5])));
  opts.set("tol", dai::Real(std::stod(argv[4])));
  opts.set("verbose", static_cast<size_t>(0));
  opts.set("updates", std::string(argv[2]));
  opts.set("logdomain", true);
  opts.set("inference", std::string(argv[3]));
  opts.set("damping", dai::Real(std::stod(argv[6])));
  dai::BP bp(fg, opts);
  bp.init();
  const auto t0 = std::chrono::steady_clock::now();
  const dai::Real diff = bp.run();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"iterations\": %zu, \"max_diff\": %.17g, \"seconds\": %.9g, \"edges\": %zu, ",
              bp.Iterations(), static_cast<double>(diff), secs, fg.nrEdges());
  if (std::string(argv[3]) == "SUMPROD") {
    std::printf("\"log_z\": %.17g, ", static_cast<double>(bp.logZ()));
  } else {
    const std::vector<size_t> map = bp.findMaximum();
    std::printf("\"map\": [");
    for (size_t i = 0; i < map.size(); ++i) std::printf("%s%zu", i ? ", " : "", map[i]);
    std::printf("], ");
  }
  std::printf("\"labels\": [");
  for (size_t i = 0; i < fg.nrVars(); ++i) std::printf("%s%zu", i ? ", " : "", fg.var(i).label());
  std::printf("], \"beliefs\": [");
  for (size_t i = 0; i < fg.nrVars(); ++i) {
    const dai::Factor b = bp.beliefV(i);
    std::printf("%s[", i ? ", " : "");
    for (size_t x = 0; x < b.nrStates(); ++x) {
      std::printf("%s%.17g", x ? ", " : "", static_cast<double>(b[x]));
    }
    std::printf("]");
  }
  std::printf("]}\n");
  return 0;
}
