# Run by CTest (cli_*): drives the mpe program and checks its output and exit codes.
function(run_mpe out_var rc_var)
  execute_process(COMMAND ${MPE} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${out_var} "${out}${err}" PARENT_SCOPE)
  set(${rc_var} ${rc} PARENT_SCOPE)
endfunction()
# expect("<if() condition>" "message"): fails the test when the condition is false.
macro(expect cond msg)
  cmake_language(EVAL CODE "if(NOT (${cond}))\n message(FATAL_ERROR [==[${msg}]==])\nendif()")
endmacro()

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
