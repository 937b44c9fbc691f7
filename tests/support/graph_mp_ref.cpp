#include "support/graph_mp_ref.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpe::test {

CsrHost host_csr(const Csr& g) {
  CsrHost h;
  h.rows = g.num_rows;
  h.cols = g.num_cols;
  h.off = g.row_offsets.to_vector<std::int64_t>();
  h.col = g.col_indices.to_vector<std::int32_t>();
  if (g.weighted()) h.w = g.weights.to_vector<float>();
  return h;
}

double act_ref(Activation a, double v) {
  switch (a) {
    case Activation::relu: return v > 0 ? v : 0;
    case Activation::sigmoid: return 1 / (1 + std::exp(-v));
    case Activation::tanh: return std::tanh(v);
    default: return v;
  }
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

std::vector<double> mp_ref(const Csr& g, const std::vector<float>& x, std::int64_t width,
                           MessageKind message, Aggregation agg, float self_scale,
                           float agg_scale, Activation act, const std::vector<float>& bias,
                           const std::vector<std::int32_t>& types, const std::vector<float>& type_w,
                           std::int64_t tw_width) {
  const CsrHost h = host_csr(g);
  const bool use_w =
      message == MessageKind::edge_weight || message == MessageKind::edge_and_type_weight;
  const bool use_t =
      message == MessageKind::type_weight || message == MessageKind::edge_and_type_weight;
  std::vector<double> y(static_cast<std::size_t>(h.rows * width));
  for (std::int64_t i = 0; i < h.rows; ++i) {
    const std::int64_t deg = h.off[i + 1] - h.off[i];
    for (std::int64_t f = 0; f < width; ++f) {
      std::vector<double> m;
      for (std::int64_t e = h.off[i]; e < h.off[i + 1]; ++e) {
        double v = x[static_cast<std::size_t>(h.col[e] * width + f)];
        if (use_w) v *= h.w[e];
        if (use_t)
          v *= type_w[static_cast<std::size_t>(types[e] * tw_width + (tw_width == 1 ? 0 : f))];
        m.push_back(v);
      }
      double a = 0;
      switch (agg) {
        case Aggregation::sum:
        case Aggregation::mean:
          for (double v : m) a += v;
          if (agg == Aggregation::mean && deg) a /= double(deg);
          break;
        case Aggregation::max: a = deg ? *std::max_element(m.begin(), m.end()) : 0; break;
        case Aggregation::min: a = deg ? *std::min_element(m.begin(), m.end()) : 0; break;
        case Aggregation::logsumexp: {
          double mx = -std::numeric_limits<double>::infinity();
          for (double v : m)
            if (v > -5e11) mx = std::max(mx, v);
          if (std::isinf(mx)) {
            a = -1e12;
          } else {
            double s = 0;
            for (double v : m)
              if (v > -5e11) s += std::exp(v - mx);
            a = mx + std::log(s);
          }
          break;
        }
      }
      const double self = self_scale != 0 ? x[static_cast<std::size_t>(i * width + f)] : 0.0;
      const double b = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(f)];
      y[static_cast<std::size_t>(i * width + f)] =
          act_ref(act, self_scale * self + agg_scale * a + b);
    }
  }
  return y;
}

std::vector<double> linear_ref(const std::vector<double>& x, std::int64_t n, std::int64_t k,
                               const std::vector<float>& w, std::int64_t m,
                               const std::vector<float>& b, Activation act) {
  std::vector<double> y(static_cast<std::size_t>(n * m));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < m; ++j) {
      double s = b.empty() ? 0.0 : b[static_cast<std::size_t>(j)];
      for (std::int64_t c = 0; c < k; ++c)
        s += x[static_cast<std::size_t>(i * k + c)] * w[static_cast<std::size_t>(j * k + c)];
      y[static_cast<std::size_t>(i * m + j)] = act_ref(act, s);
    }
  return y;
}

namespace {
// Edges (dst, src, weight) of a square graph with every loop removed and one loop per node
// added, weighted like the node's last removed loop (1 when none, or always 1 with unit_loops).
struct Edge {
  std::int64_t dst, src;
  double w;
};
std::vector<Edge> looped(const CsrHost& h, bool unit_loops) {
  std::vector<Edge> out;
  std::vector<double> loop(static_cast<std::size_t>(h.rows), 1.0);
  for (std::int64_t i = 0; i < h.rows; ++i)
    for (std::int64_t e = h.off[i]; e < h.off[i + 1]; ++e) {
      const double w = h.w.empty() ? 1.0 : h.w[e];
      if (h.col[e] == i) {
        if (!unit_loops) loop[static_cast<std::size_t>(i)] = w;
      } else {
        out.push_back({i, h.col[e], w});
      }
    }
  for (std::int64_t i = 0; i < h.rows; ++i)
    out.push_back({i, i, loop[static_cast<std::size_t>(i)]});
  return out;
}
}  // namespace

std::vector<double> gcn_ref(const Csr& g, const std::vector<float>& x, std::int64_t in,
                            const std::vector<float>& w, std::int64_t out,
                            const std::vector<float>& b) {
  const CsrHost h = host_csr(g);
  const auto edges = looped(h, false);
  std::vector<double> deg(static_cast<std::size_t>(h.rows), 0.0);
  for (const auto& e : edges) deg[static_cast<std::size_t>(e.dst)] += e.w;
  // Aggregate first, then transform (the other order from the layer's, on purpose).
  std::vector<double> agg(static_cast<std::size_t>(h.rows * in), 0.0);
  for (const auto& e : edges) {
    const double c = e.w / std::sqrt(deg[static_cast<std::size_t>(e.dst)] *
                                     deg[static_cast<std::size_t>(e.src)]);
    for (std::int64_t f = 0; f < in; ++f)
      agg[static_cast<std::size_t>(e.dst * in + f)] +=
          c * x[static_cast<std::size_t>(e.src * in + f)];
  }
  return linear_ref(agg, h.rows, in, w, out, b);
}

std::vector<double> sage_ref(const Csr& g, const std::vector<float>& x, std::int64_t in,
                             const std::vector<float>& wl, const std::vector<float>& bl,
                             const std::vector<float>& wr, std::int64_t out) {
  const std::int64_t n = g.num_rows;
  const auto mean =
      mp_ref(g, x, in, MessageKind::copy, Aggregation::mean, 0, 1, Activation::none, {});
  auto y = linear_ref(mean, n, in, wl, out, bl);
  const auto r = linear_ref(to_double(x), n, in, wr, out, {});
  for (std::size_t k = 0; k < y.size(); ++k) y[k] += r[k];
  return y;
}

std::vector<double> gin_ref(const Csr& g, const std::vector<float>& x, std::int64_t in, float eps,
                            const std::vector<float>& w1, const std::vector<float>& b1,
                            std::int64_t hid, const std::vector<float>& w2,
                            const std::vector<float>& b2, std::int64_t out) {
  const std::int64_t n = g.num_rows;
  const auto a =
      mp_ref(g, x, in, MessageKind::copy, Aggregation::sum, 1.0f + eps, 1, Activation::none, {});
  return linear_ref(linear_ref(a, n, in, w1, hid, b1, Activation::relu), n, hid, w2, out, b2);
}

std::vector<double> gat_ref(const Csr& g, const std::vector<float>& x, std::int64_t in,
                            const std::vector<float>& w, const std::vector<float>& att_src,
                            const std::vector<float>& att_dst, const std::vector<float>& bias,
                            std::int64_t heads, std::int64_t channels, bool concat, double slope) {
  const CsrHost h = host_csr(g);
  const std::int64_t n = h.rows, hc = heads * channels;
  const auto feat = linear_ref(to_double(x), n, in, w, hc, {});
  std::vector<double> ss(static_cast<std::size_t>(n * heads), 0), sd(ss.size(), 0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t hh = 0; hh < heads; ++hh)
      for (std::int64_t c = 0; c < channels; ++c) {
        const double f = feat[static_cast<std::size_t>(i * hc + hh * channels + c)];
        ss[static_cast<std::size_t>(i * heads + hh)] +=
            f * att_src[static_cast<std::size_t>(hh * channels + c)];
        sd[static_cast<std::size_t>(i * heads + hh)] +=
            f * att_dst[static_cast<std::size_t>(hh * channels + c)];
      }
  std::vector<std::vector<std::int64_t>> in_edges(static_cast<std::size_t>(n));  // sources
  for (const auto& e : looped(h, true)) in_edges[static_cast<std::size_t>(e.dst)].push_back(e.src);
  const std::int64_t out_w = concat ? hc : channels;
  std::vector<double> y(static_cast<std::size_t>(n * out_w), 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t hh = 0; hh < heads; ++hh) {
      std::vector<std::pair<std::int64_t, double>> sc;
      double mx = -1e300;
      for (std::int64_t src : in_edges[static_cast<std::size_t>(i)]) {
        double s = ss[static_cast<std::size_t>(src * heads + hh)] +
                   sd[static_cast<std::size_t>(i * heads + hh)];
        s = s > 0 ? s : slope * s;
        sc.emplace_back(src, s);
        mx = std::max(mx, s);
      }
      double z = 0;
      for (auto& p : sc) z += std::exp(p.second - mx);
      for (auto& p : sc) {
        const double alpha = std::exp(p.second - mx) / z;
        for (std::int64_t c = 0; c < channels; ++c) {
          const double v = alpha * feat[static_cast<std::size_t>(p.first * hc + hh * channels + c)];
          if (concat) {
            y[static_cast<std::size_t>(i * out_w + hh * channels + c)] += v;
          } else {
            y[static_cast<std::size_t>(i * out_w + c)] += v / double(heads);
          }
        }
      }
    }
    for (std::int64_t f = 0; f < out_w; ++f)
      y[static_cast<std::size_t>(i * out_w + f)] +=
          bias.empty() ? 0.0 : bias[static_cast<std::size_t>(f)];
  }
  return y;
}

std::vector<double> diffuse_ref(const Csr& g, std::vector<double> v, double dt, double leak,
                                double v_rest, std::int64_t steps,
                                const std::vector<std::uint8_t>& clamped) {
  const CsrHost h = host_csr(g);
  std::vector<double> next(v.size());
  for (std::int64_t s = 0; s < steps; ++s) {
    for (std::int64_t i = 0; i < h.rows; ++i) {
      const auto k = static_cast<std::size_t>(i);
      if (!clamped.empty() && clamped[k]) {
        next[k] = v[k];
        continue;
      }
      double j = 0;
      for (std::int64_t e = h.off[i]; e < h.off[i + 1]; ++e)
        j += (h.w.empty() ? 1.0 : h.w[e]) * (v[static_cast<std::size_t>(h.col[e])] - v[k]);
      next[k] = v[k] + dt * (j + leak * (v_rest - v[k]));
    }
    std::swap(v, next);
  }
  return v;
}

}  // namespace mpe::test
