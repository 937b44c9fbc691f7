// Extraction (spec step 3): the final active set of a query, filtered (min_activation, types),
// ordered by activation descending then id, as result rows, then the universal nodes.
// A large batch keeps tens of thousands of nodes per query, so the order is a radix sort of
// packed 64-bit keys (activation bits, id rank), and a single large query (nobody else running
// in parallel) sorts and builds its rows on every thread: its extraction otherwise runs
// serially after a parallel propagation.
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <omp.h>

#include "relevance/detail.hpp"

namespace mpe::relevance::detail {

namespace {
// tuning: below this many kept nodes one thread extracts (a parallel region costs ~10 µs)
constexpr std::size_t kParallelKeys = 16384;
constexpr std::size_t kAhead = 8;  // tuning: rows of prefetch distance in the row build

// A kept node: key = (activation descending, id rank ascending) packed so that ascending key
// order is the result order; k = its position in r.active.
// node: the node itself, so that building the rows reads nothing else through k but the
// confidence (16 bytes either way).
struct Key {
  std::uint64_t key;
  std::uint32_t k;
  std::int32_t node;
};

// Float bits mapped to unsigned integers of the same order (-0 taken as +0).
std::uint32_t ordered_bits(float a) {
  a += 0.0f;
  std::uint32_t u;
  std::memcpy(&u, &a, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

float unordered_bits(std::uint32_t u) {
  u = (u & 0x80000000u) ? (u & 0x7FFFFFFFu) : ~u;
  float a;
  std::memcpy(&a, &u, 4);
  return a;
}

// The activation a key was packed from.
float key_activation(std::uint64_t key) { return unordered_bits(~std::uint32_t(key >> 32)); }

std::uint64_t pack(float a, std::int32_t rank) {
  return (std::uint64_t(~ordered_bits(a)) << 32) | std::uint32_t(rank);
}

// Stable LSD radix sort by key, 8 bits a pass; passes where every key has the same digit are
// skipped (R-MAT: the activation's top byte and the rank's high bytes).
void radix_sort(std::vector<Key>& v, std::vector<Key>& tmp) {
  const std::size_t n = v.size();
  if (n < 64) {
    std::sort(v.begin(), v.end(), [](const Key& x, const Key& y) { return x.key < y.key; });
    return;
  }
  std::array<std::array<std::uint32_t, 256>, 8> hist{};
  for (const Key& x : v)
    for (int d = 0; d < 8; ++d) ++hist[std::size_t(d)][(x.key >> (8 * d)) & 0xFF];
  tmp.resize(n);
  Key* src = v.data();
  Key* dst = tmp.data();
  for (int d = 0; d < 8; ++d) {
    auto& h = hist[std::size_t(d)];
    if (h[(src[0].key >> (8 * d)) & 0xFF] == n) continue;  // one digit value: nothing to do
    std::uint32_t sum = 0;
    for (auto& c : h) {
      const std::uint32_t t = c;
      c = sum;
      sum += t;
    }
    for (std::size_t j = 0; j < n; ++j) dst[h[(src[j].key >> (8 * d)) & 0xFF]++] = src[j];
    std::swap(src, dst);
  }
  if (src != v.data()) std::memcpy(v.data(), src, n * sizeof(Key));
}
}  // namespace

void extract_results(const GraphData& g, const Query& q, QueryResult& r,
                     const std::vector<float>& conf_of_active) {
  const QueryParams& p = q.params;
  // A query has at most top_k (or its explicit) seeds: a short list.
  std::vector<std::int64_t> seeds;
  for (const SeedHit& s : r.seeds) seeds.push_back(s.node);
  std::sort(seeds.begin(), seeds.end());
  auto make = [&](std::int64_t i, float a, float c) {
    const Node& n = g.nodes[std::size_t(i)];
    return Activated{i,         n.id, n.type, n.title, a, c, n.universal,
                     std::binary_search(seeds.begin(), seeds.end(), i)};
  };
  std::vector<char> type_ok(g.node_type_names.size(), p.types.empty() ? 1 : 0);
  for (std::size_t t = 0; t < type_ok.size(); ++t)
    if (std::find(p.types.begin(), p.types.end(), g.node_type_names[t]) != p.types.end())
      type_ok[t] = 1;
  const std::size_t cnt = r.active.size();
  const int threads =
      cnt >= kParallelKeys && !omp_in_parallel() ? std::min(omp_get_max_threads(), 8) : 1;
  // Each thread filters and sorts one slice of the active set; the sorted slices are merged.
  std::vector<std::vector<Key>> part(static_cast<std::size_t>(threads));
  auto sort_slice = [&](int t) {
    const std::size_t k0 = cnt * std::size_t(t) / std::size_t(threads);
    const std::size_t k1 = cnt * std::size_t(t + 1) / std::size_t(threads);
    std::vector<Key>& keys = part[std::size_t(t)];
    keys.reserve(k1 - k0);
    for (std::size_t k = k0; k < k1; ++k) {
      const auto [i, a] = r.active[k];
      if (a < p.min_activation || !type_ok[std::size_t(g.node_type[std::size_t(i)])]) continue;
      keys.push_back({pack(a, g.id_rank[std::size_t(i)]), std::uint32_t(k), std::int32_t(i)});
    }
    std::vector<Key> tmp;
    radix_sort(keys, tmp);
  };
  if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) sort_slice(t);
  } else {
    sort_slice(0);
  }
  std::vector<Key> keys = std::move(part[0]);
  for (std::size_t t = 1; t < part.size(); ++t) {
    std::vector<Key> merged(keys.size() + part[t].size());
    std::merge(keys.begin(), keys.end(), part[t].begin(), part[t].end(), merged.begin(),
               [](const Key& x, const Key& y) { return x.key < y.key; });
    keys.swap(merged);
  }
  std::size_t keep = keys.size();
  if (p.max_results > 0 && keep > std::size_t(p.max_results)) keep = std::size_t(p.max_results);
  // Rows are copy-constructed in place (assigning into default rows costs twice as much); a
  // parallel build fills one slice per thread, appended in order.
  auto build = [&](std::vector<Activated>& rows, std::size_t k0, std::size_t k1) {
    rows.reserve(rows.size() + (k1 - k0));
    for (std::size_t k = k0; k < k1; ++k) {
      if (k + kAhead < k1) {  // rows go in activation order: the node records are random reads
        const Key& ahead = keys[k + kAhead];
        const char* rec = reinterpret_cast<const char*>(&g.nodes[std::size_t(ahead.node)]);
        for (std::size_t b = 0; b < sizeof(Node); b += 64) __builtin_prefetch(rec + b);
        __builtin_prefetch(&conf_of_active[ahead.k]);
      }
      const Key& x = keys[k];
      rows.push_back(make(x.node, key_activation(x.key), conf_of_active[x.k]));
    }
  };
  std::vector<Activated> picked;
  if (threads > 1 && keep >= kParallelKeys) {
    std::vector<std::vector<Activated>> rows(static_cast<std::size_t>(threads));
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      auto& out = rows[std::size_t(t)];
      if (t == 0) out.reserve(keep + g.universal.size());
      build(out, keep * std::size_t(t) / std::size_t(threads),
            keep * std::size_t(t + 1) / std::size_t(threads));
    }
    picked = std::move(rows[0]);
    for (std::size_t t = 1; t < rows.size(); ++t)
      picked.insert(picked.end(), std::make_move_iterator(rows[t].begin()),
                    std::make_move_iterator(rows[t].end()));
  } else {
    picked.reserve(keep + g.universal.size());
    build(picked, 0, keep);
  }
  if (p.include_universal) {
    std::vector<Activated> uni;
    for (const std::int64_t i : g.universal) {
      if (std::any_of(keys.begin(), keys.begin() + std::ptrdiff_t(keep),
                      [&](const Key& x) { return x.node == i; }))
        continue;
      auto it = std::lower_bound(r.active.begin(), r.active.end(), std::make_pair(i, -1.0f));
      const bool on = it != r.active.end() && it->first == i;
      uni.push_back(make(i, on ? it->second : 0.0f,
                         on ? conf_of_active[std::size_t(it - r.active.begin())] : 0.0f));
    }
    std::sort(uni.begin(), uni.end(),
              [](const Activated& x, const Activated& y) { return x.id < y.id; });
    picked.insert(picked.end(), std::make_move_iterator(uni.begin()),
                  std::make_move_iterator(uni.end()));
  }
  r.results = std::move(picked);
}

}  // namespace mpe::relevance::detail
