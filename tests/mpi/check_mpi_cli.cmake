# Run by CTest (mpi_cli): `mpirun -np 2|4 mpe agent|plan` print what one process prints; a bad
# input on one rank fails the job with the error on stderr, within a time limit (no hang).
function(run out_var rc_var)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                  TIMEOUT 120)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()
macro(expect cond msg)
  cmake_language(EVAL CODE "if(NOT (${cond}))\n message(FATAL_ERROR [==[${msg}]==])\nendif()")
endmacro()
set(mpirun ${MPIEXEC} ${NP_FLAG})

# Agents: every statistic equal; only the wall time (and the rank count) may differ.
set(agent_args agent --env frozen_lake --episodes 9 --seed 4 --iterations 20 --horizon 5
               --json --quiet --device cpu)
run(one rc ${MPE} ${agent_args})
expect("rc EQUAL 0" "mpe agent failed: ${last_err}")
foreach(key wall_seconds episodes_per_second ranks)
  string(JSON one REMOVE "${one}" ${key})
endforeach()
foreach(n 2 4)
  run(many rc ${mpirun} ${n} ${FLAGS} ${MPE} ${agent_args})
  expect("rc EQUAL 0" "mpirun -np ${n} mpe agent failed (rc ${rc}): ${last_err}")
  string(JSON ranks GET "${many}" ranks)
  expect("ranks EQUAL ${n}" "agent JSON says ${ranks} ranks, expected ${n}")
  foreach(key wall_seconds episodes_per_second ranks)
    string(JSON many REMOVE "${many}" ${key})
  endforeach()
  string(JSON same EQUAL "${one}" "${many}")
  expect("same" "mpirun -np ${n} agent differs from one process:\n${one}\nvs\n${many}")
endforeach()

# Plan batches: the JSON output byte for byte.
set(plan_args plan ${EXAMPLES}/aif/fixture_model.json ${DATA}/plan_requests.json --json
              --device cpu)
run(one rc ${MPE} ${plan_args})
expect("rc EQUAL 0" "mpe plan failed: ${last_err}")
string(JSON n_plans LENGTH "${one}" plans)
expect("n_plans EQUAL 7" "expected 7 plans, got ${n_plans}")
foreach(n 2 4)
  run(many rc ${mpirun} ${n} ${FLAGS} ${MPE} ${plan_args})
  expect("rc EQUAL 0" "mpirun -np ${n} mpe plan failed (rc ${rc}): ${last_err}")
  expect("one STREQUAL many" "mpirun -np ${n} plan output differs from one process")
endforeach()

# BP evidence samples (7 on a loopy 3x3 grid): every result equal; only the time may differ.
set(bp_args bp ${DATA}/grid3.uai --evidence ${DATA}/grid3.evid --json --device cpu)
run(one rc ${MPE} ${bp_args})
expect("rc EQUAL 0" "mpe bp failed: ${last_err}")
string(JSON n_results LENGTH "${one}" results)
expect("n_results EQUAL 7" "expected 7 BP results, got ${n_results}")
string(JSON one REMOVE "${one}" seconds)
foreach(n 2 4)
  run(many rc ${mpirun} ${n} ${FLAGS} ${MPE} ${bp_args})
  expect("rc EQUAL 0" "mpirun -np ${n} mpe bp failed (rc ${rc}): ${last_err}")
  string(JSON many REMOVE "${many}" seconds)
  string(JSON same EQUAL "${one}" "${many}")
  expect("same" "mpirun -np ${n} bp differs from one process")
endforeach()
# The same samples with the graph's factors split over the ranks (cut-edge messages exchanged
# every sweep): bit-equal messages, so the same JSON.
foreach(n 2 4)
  run(many rc ${mpirun} ${n} ${FLAGS} ${MPE} ${bp_args} --partition contiguous)
  expect("rc EQUAL 0" "mpirun -np ${n} mpe bp --partition failed (rc ${rc}): ${last_err}")
  string(JSON many REMOVE "${many}" seconds)
  string(JSON same EQUAL "${one}" "${many}")
  expect("same" "mpirun -np ${n} bp --partition differs from one process:\n${one}\nvs\n${many}")
endforeach()

# A bad request (index 5: q0 of the wrong length) lives on one rank: the job fails, rank 0
# prints the error once, naming the request.
run(out rc ${mpirun} 4 ${FLAGS} ${MPE} plan ${EXAMPLES}/aif/fixture_model.json
    ${DATA}/plan_requests_bad.json --json --device cpu)
expect("NOT rc EQUAL 0" "a bad request under mpirun gave rc 0")
expect("NOT rc MATCHES \"timeout\"" "mpirun hung on a bad request")
string(FIND "${last_err}" "request 5" pos)
expect("pos GREATER -1" "stderr does not name request 5: ${last_err}")
string(REGEX MATCHALL "mpe: error:" copies "${last_err}")
list(LENGTH copies n_copies)
expect("n_copies EQUAL 1" "the agreed error was printed ${n_copies} times: ${last_err}")

# A missing model file fails on every rank before any collective: each rank aborts the job.
run(out rc ${mpirun} 2 ${FLAGS} ${MPE} plan ${DATA}/no-such-model.json
    ${DATA}/plan_requests.json --device cpu)
expect("NOT rc EQUAL 0" "a missing model under mpirun gave rc 0")
expect("NOT rc MATCHES \"timeout\"" "mpirun hung on a missing model")
string(FIND "${last_err}" "no-such-model.json" pos)
expect("pos GREATER -1" "stderr does not name the missing file: ${last_err}")
