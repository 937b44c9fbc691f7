# Run by CTest (cli_*): drives the mpe program and checks its output and exit codes.
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

# info --json is valid JSON naming the CPU device.
run_mpe(out rc info --json)
expect("rc EQUAL 0" "mpe info --json failed: ${out}")
string(JSON first_device GET "${out}" devices 0 device)
expect("first_device STREQUAL cpu" "first device is '${first_device}', expected cpu")

# aggregate on a tiny graph: in-degrees c=2, a=1, b=1, d=1 (self-loop) -> 5 edges, max 2.
run_mpe(out rc aggregate ${DATA}/tiny.edges --device cpu --json --rounds 1 --agg mean,max)
expect("rc EQUAL 0" "mpe aggregate failed: ${out}")
string(JSON nodes GET "${out}" graph nodes)
string(JSON edges GET "${out}" graph edges)
string(JSON maxdeg GET "${out}" graph max_in_degree)
string(JSON n_results LENGTH "${out}" results)
expect("nodes EQUAL 4 AND edges EQUAL 5 AND maxdeg EQUAL 2 AND n_results EQUAL 2"
       "unexpected graph stats: ${out}")

# Bad input: a clear error and exit code 2 (mpe::Error) or CLI11's usage error.
run_mpe(out rc aggregate ${DATA}/tiny.edges --device cpu --agg median)
expect("rc EQUAL 2" "bad aggregation gave rc=${rc}: ${out}")
string(FIND "${out}" "unknown aggregation 'median'" pos)
expect("pos GREATER -1" "message does not name the aggregation: ${out}")
run_mpe(out rc aggregate ${DATA}/does-not-exist.mtx)
expect("NOT rc EQUAL 0" "missing file accepted")
run_mpe(out rc aggregate ${DATA}/tiny.edges --device tpu)
expect("rc EQUAL 2" "bad device gave rc=${rc}: ${out}")

# plan: the shipped golden fixture gives the spec's action distribution (aif-mp.md §7).
run_mpe(out rc plan ${EXAMPLES}/aif/fixture_model.json ${EXAMPLES}/aif/fixture_request.json
        --device cpu --json)
expect("rc EQUAL 0" "mpe plan failed: ${out}")
string(JSON p0 GET "${out}" plans 0 action_dist 0)
string(JSON p1 GET "${out}" plans 1 action_dist 0)
expect("p0 GREATER 0.644637 AND p0 LESS 0.644657" "dense fixture action_dist[0] = ${p0}")
expect("p1 GREATER 0.653190 AND p1 LESS 0.653210" "precomputed fixture action_dist[0] = ${p1}")
run_mpe(out rc plan ${EXAMPLES}/aif/fixture_request.json ${EXAMPLES}/aif/fixture_request.json)
expect("rc EQUAL 2" "a request file used as a model gave rc=${rc}: ${out}")
string(FIND "${out}" "missing field \"T\"" pos)
expect("pos GREATER -1" "message does not name the missing field: ${out}")

# agent: a short Frozen Lake run prints parseable JSON with rates in [0, 1]; bad options fail.
run_mpe(out rc agent --env frozen_lake --episodes 2 --iterations 5 --horizon 3 --device cpu
        --seed 3 --json --quiet)
expect("rc EQUAL 0" "mpe agent failed: ${out}")
string(JSON rate GET "${out}" success_rate)
string(JSON n GET "${out}" episodes)
string(JSON steps GET "${out}" mean_steps)
expect("n EQUAL 2 AND rate GREATER_EQUAL 0 AND rate LESS_EQUAL 1 AND steps GREATER 0"
       "unexpected agent results: ${out}")
run_mpe(out rc agent --env chess)
expect("NOT rc EQUAL 0" "unknown environment accepted: ${out}")
run_mpe(out rc agent --method aif --theta loopy --episodes 1 --iterations 2 --device cpu --quiet)
expect("rc EQUAL 2" "aif with loopy theta gave rc=${rc}: ${out}")

# relevance demo: the built-in assistant graph; "show me what serenity looks like" reaches the
# media constraints through the image-generation capability; universal nodes always listed.
run_mpe(out rc relevance demo --json --embedder hashed)
expect("rc EQUAL 0" "mpe relevance demo failed: ${out}")
string(JSON iters GET "${out}" iterations)
string(JSON seed0 GET "${out}" seeds 0 id)
string(JSON nres LENGTH "${out}" results)
expect("iters EQUAL 5 AND seed0 STREQUAL img_gen_capability AND nres GREATER 3"
       "unexpected demo result: ${out}")
string(FIND "${out}" "\"never_mention_cost\"" pos_cost)
string(FIND "${out}" "\"language_matching\"" pos_lang)
expect("pos_cost GREATER -1 AND pos_lang GREATER -1" "demo lacks the expected constraints: ${out}")
run_mpe(out rc relevance demo "remind me tomorrow at 9 to call the dentist" --embedder hashed)
expect("rc EQUAL 0" "mpe relevance demo (table) failed: ${out}")
string(FIND "${out}" "| timezone_confirmation | constraint |" pos)
expect("pos GREATER -1" "the reminder query misses the time-zone constraint: ${out}")

# Personalised PageRank mode: the seeds rank first, scores sum to at most 1, bad damping refused.
run_mpe(out rc relevance demo --mode ppr --types capability,concept,constraint --ppr-top 3 --json --embedder hashed)
expect("rc EQUAL 0" "mpe relevance demo --mode ppr failed: ${out}")
string(JSON nres LENGTH "${out}" results)
string(JSON top0 GET "${out}" results 0 id)
expect("nres EQUAL 3 AND top0 STREQUAL img_gen_capability" "unexpected ppr result: ${out}")
run_mpe(out rc relevance demo --mode ppr --damping 1.5 --embedder hashed)
expect("NOT rc EQUAL 0" "damping 1.5 accepted: ${out}")

# relevance import / query / learn / export on a fresh store.
set(rel_work "${CMAKE_CURRENT_BINARY_DIR}/relevance_cli")
file(REMOVE_RECURSE "${rel_work}")
file(MAKE_DIRECTORY "${rel_work}")
set(rel_data "${EXAMPLES}/../data/relevance")
run_mpe(out rc relevance import ${rel_work}/g.db ${rel_data}/nodes.csv ${rel_data}/edges.csv --json)
expect("rc EQUAL 0" "mpe relevance import failed: ${out}")
string(JSON n GET "${out}" nodes)
string(JSON e GET "${out}" edges)
expect("n GREATER_EQUAL 100 AND e GREATER_EQUAL 100" "demo graph too small: ${out}")
run_mpe(out rc relevance query ${rel_work}/g.db --seed img_gen_capability=0.78 --iterations 1
        --types constraint --min-activation 0 --json)
expect("rc EQUAL 0" "mpe relevance query failed: ${out}")
string(JSON a0 GET "${out}" results 0 activation)
expect("a0 GREATER 0.3899 AND a0 LESS 0.3901" "first hop to never_mention_cost: 0.5 * 0.78 * 1.0 expected: ${out}")
run_mpe(out rc relevance learn ${rel_work}/g.db --nodes img_gen_capability --reward 1 --json)
expect("rc EQUAL 0" "mpe relevance learn failed: ${out}")
string(JSON nedges GET "${out}" edges)
string(JSON w1 GET "${out}" changed 0 weight)
expect("nedges GREATER 3 AND w1 GREATER 0.94 AND w1 LESS 0.96"
       "learning changed the wrong edges (0.9 + 0.1 * (1 - 0.5) = 0.95): ${out}")
run_mpe(out rc relevance export ${rel_work}/g.db ${rel_work}/out)
expect("rc EQUAL 0 AND EXISTS ${rel_work}/out/embeddings.npy" "export failed: ${out}")
file(READ ${rel_work}/out/edges.csv edges_csv)
string(FIND "${edges_csv}" "img_gen_capability,generate_image,ENABLES,0.949999988" pos)
expect("pos GREATER -1" "the learned weight is not in the export")
# Bad input: an edge naming an unknown node, a text query on a store without the embedder.
file(WRITE ${rel_work}/bad_edges.csv "source,target,type\nimg_gen_capability,nowhere,ENABLES\n")
run_mpe(out rc relevance import ${rel_work}/bad.db ${rel_data}/nodes.csv ${rel_work}/bad_edges.csv)
expect("rc EQUAL 2" "a bad edges file gave rc=${rc}: ${out}")
string(FIND "${out}" "bad_edges.csv:2: unknown target node id 'nowhere'" pos)
expect("pos GREATER -1 AND NOT EXISTS ${rel_work}/bad.db" "unclear error or a file left: ${out}")
run_mpe(out rc relevance query ${rel_work}/g.db --seed ghost)
expect("rc EQUAL 2" "an unknown seed gave rc=${rc}: ${out}")
string(FIND "${out}" "unknown seed node id 'ghost'" pos)
expect("pos GREATER -1" "unclear message for an unknown seed: ${out}")

# Regressions (tests/data/regress, issue 16): no input aborts the program.
set(regress "${EXAMPLES}/../tests/data/regress")
# A header of 5 x 54294967297 with 7 entries: a clear out_of_memory naming the file, exit 2.
run_mpe(out rc aggregate ${regress}/huge_cols.mtx --device cpu --rounds 1)
expect("rc EQUAL 2" "a 5 x 54294967297 matrix gave rc=${rc}: ${out}")
string(FIND "${out}" "mpe: error: out_of_memory: " pos)
string(FIND "${out}" "huge_cols.mtx: csr_from_coo: a 54294967297 x 5 graph" pos2)
expect("pos EQUAL 0 AND pos2 GREATER -1" "unclear error for a huge declared size: ${out}")
# "return_channels": false with --json: the action marginals, and no channel fields.
run_mpe(out rc plan ${EXAMPLES}/aif/fixture_model.json ${regress}/request_no_channels.json
        --device cpu --json)
expect("rc EQUAL 0" "plan --json without channels gave rc=${rc}: ${out}")
string(JSON p0 GET "${out}" plans 0 action_dist 0)
expect("p0 GREATER 0.644637 AND p0 LESS 0.644657" "no-channel action_dist[0] = ${p0}")
string(JSON qu_len LENGTH "${out}" plans 0 q_u)
string(JSON has_rx ERROR_VARIABLE rx_err GET "${out}" plans 0 log_r_x)
expect("qu_len EQUAL 2 AND NOT rx_err STREQUAL NOTFOUND" "channels printed or q_u missing: ${out}")
# The help names no web address (the project has none yet).
run_mpe(out rc --help)
expect("rc EQUAL 0" "mpe --help gave rc=${rc}")
string(FIND "${out}" "http" pos)
expect("pos EQUAL -1" "the help names a web address: ${out}")
