# Run by CTest (cli_mpe_bench): mpe-bench's flags, checks and case grids. The expected grids in
# bench_lists/ are the --list output of the mpe-bench before its ops became parameter tables
# (issue 15); they pin every flag's default, the --quick preset, the points' keys and order.
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)
set(MPE ${BENCH})
set(LISTS ${CMAKE_CURRENT_LIST_DIR}/bench_lists)
set(ALL copy,lse_contract,csr_aggregate,graph_mp,gcn,cusparse_spmm,aif_plan,aif_engine,attention,relevance,relevance_engine,bp,bp_engine)

# expect_list(NAME args...): `mpe-bench --list --device cpu args` (run in tests/, so file
# arguments are relative) prints bench_lists/NAME.txt.
function(expect_list name)
  execute_process(COMMAND ${BENCH} --list --device cpu ${ARGN} WORKING_DIRECTORY ${TESTS}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  file(READ ${LISTS}/${name}.txt want)
  expect("rc EQUAL 0" "mpe-bench --list ${ARGN} failed (${rc}): ${err}")
  expect([[out STREQUAL want]] "mpe-bench --list ${ARGN}: got\n${out}\nexpected (${name}.txt)\n${want}")
endfunction()

expect_list(default)
expect_list(quick_all_ops --quick --op ${ALL})
expect_list(csr_mtx --op csr_aggregate,graph_mp,gcn --mtx fuzz/seeds/matrix_market/general_real.mtx
            --width 32,128 --agg sum,max --dtype f32,bf16)
expect_list(lse_csr --op lse_contract,csr_aggregate,graph_mp --batch 1,2 --rows 3,4 --cols 5
            --shared 0,1 --graph uniform,rmat --nodes 10 --degree 0,3 --width 1,2 --agg mean,max
            --dtype f16)
expect_list(aif --op aif_plan,aif_engine --problems 1,2 --states 3 --actions 2 --horizon 1
            --iters 2 --thetas 1,3 --modalities 1 --outcomes 2 --successors 0,2
            --aif-method aif,vbp --theta fixed,loopy --clients 1,4 --engine-batch 8)
expect_list(attention --op attention --attn-batch 2 --heads 8 --kv-heads 0,2 --seq 16,32
            --head-dim 8 --causal 1 --dtype f32,bf16 --attn-path fused,unfused)
expect_list(relevance --op relevance,relevance_engine --rel-graph demo,rmat --nodes 100,200
            --degree 4 --rel-dim 8 --rel-batch 1,4 --rel-gate 0.5 --rel-mode spreading,ppr
            --rel-dense 0.1 --rel-requests 10 --clients 2 --engine-batch 1,4)
expect_list(bp --op bp,bp_engine --bp-graph grid,rbm --bp-size 4,6 --bp-card 3 --bp-batch 2
            --bp-sweeps 5 --bp-method sum,max --bp-precision f32 --bp-schedule sequential
            --bp-damping 0,0.5 --bp-requests 10 --clients 2 --engine-batch 1,8)
expect_list(bp_file --op bp,bp_engine --bp-file data/bp/tiny.fg --bp-size 4,6 --bp-card 2,3
            --bp-batch 1,2 --bp-method sum,max)

# A bad value of a selected op: exit code 2, the flag and the value named, nothing listed.
function(expect_refused flag value)
  run_mpe(out rc --list ${ARGN} ${flag} ${value})
  expect("rc EQUAL 2" "mpe-bench ${ARGN} ${flag} ${value} gave rc=${rc}: ${out}")
  string(FIND "${out}" "${flag}" at_flag)
  string(FIND "${out}" "${value}" at_value)
  expect("at_flag GREATER -1 AND at_value GREATER -1" "no ${flag} ${value} in: ${out}")
  string(FIND "${out}" "cpu " at_row)
  expect("at_row EQUAL -1" "rows listed despite the error: ${out}")
endfunction()
expect_refused(--batch 0 --op copy,lse_contract)
expect_refused(--shared 2 --op lse_contract)
expect_refused(--mib abc --op copy)
expect_refused(--graph foo --op csr_aggregate)
expect_refused(--agg median --op gcn)
expect_refused(--dtype f8 --op graph_mp)
expect_refused(--attn-path none --op attention)
expect_refused(--aif-method x --op aif_plan)
expect_refused(--engine-batch 0 --op aif_engine)
expect_refused(--bp-damping 1 --op bp)
expect_refused(--bp-schedule random --op bp_engine)
expect_refused(--rel-dense x --op relevance)
expect_refused(--rel-requests 0 --op relevance_engine)
expect_refused(--mtx /nonexistent.mtx --op csr_aggregate)
run_mpe(out rc --list --op nosuch)
expect("rc EQUAL 2" "an unknown op gave rc=${rc}: ${out}")
string(FIND "${out}" "unknown op 'nosuch' (aif_engine, aif_plan" at)
expect("at GREATER -1" "no list of ops in: ${out}")
# A flag of an op not run is not checked (its default stays unused).
run_mpe(out rc --list --op copy --batch 0)
expect("rc EQUAL 0" "--batch of an op not run was checked: ${out}")

# One tiny timed run: the JSON row carries integer parameters as numbers and the byte floor
# of lse_contract, 4*(I*J + B*J + B*I) = 4*(12 + 8 + 6) for B=2, I=3, J=4 and one shared M.
run_mpe(out rc --device cpu --op lse_contract --batch 2 --rows 3 --cols 4 -r 1 --warmup 0
        -o jsonl)
expect("rc EQUAL 0" "timed run failed: ${out}")
string(JSON bytes GET "${out}" bytes)
string(JSON rows GET "${out}" params rows)
string(JSON type TYPE "${out}" params rows)
expect("bytes EQUAL 104 AND rows EQUAL 3 AND type STREQUAL NUMBER" "row: ${out}")
