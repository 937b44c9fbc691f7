# Run by CTest (cli_mpe_text): `mpe embed` and the relevance commands with a sentence encoder,
# on the tiny BERT of tests/data/text (always) and on all-MiniLM-L6-v2 when it is installed.
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)
set(tiny "${TEXTDATA}/tiny")

# embed: JSON with one vector per text; "café" matches the float64 NumPy reference
# (tiny_expected.npy row 0 starts -0.0063777, -0.0605713).
run_mpe(out rc embed --model ${tiny} "café" "the quick brown fox")
expect("rc EQUAL 0" "mpe embed failed: ${out}")
string(JSON dim GET "${out}" dim)
string(JSON n LENGTH "${out}" embeddings)
string(JSON e0 GET "${out}" embeddings 0 embedding 0)
string(JSON e1 GET "${out}" embeddings 0 embedding 1)
string(JSON where GET "${out}" device)
string(JSON storage GET "${out}" storage)
expect("dim EQUAL 32 AND n EQUAL 2 AND where STREQUAL cpu AND storage STREQUAL f32"
       "unexpected embed output: ${out}")
expect("e0 GREATER -0.00640 AND e0 LESS -0.00635 AND e1 GREATER -0.0606 AND e1 LESS -0.0605"
       "embedding of 'café' differs from the reference: ${e0}, ${e1}")
run_mpe(out rc embed --model ${WORK}/no_such_model "x")
expect("rc EQUAL 2" "a missing model folder gave rc=${rc}: ${out}")
string(FIND "${out}" "no_such_model does not exist" pos)
expect("pos GREATER -1" "unclear error for a missing model: ${out}")

# 16-bit weights are a CUDA-only storage: the CPU refuses them by name.
run_mpe(out rc embed --model ${tiny} --device cpu --storage bf16 "x")
string(FIND "${out}" "CUDA devices only" pos)
expect("rc EQUAL 2 AND pos GREATER -1" "bf16 on the CPU gave rc=${rc}: ${out}")
run_mpe(out rc embed --model ${tiny} --device gpu7 "x")
string(FIND "${out}" "unknown device 'gpu7'" pos)
expect("rc EQUAL 2 AND pos GREATER -1" "a bad --device gave rc=${rc}: ${out}")

# import with the encoder: the store records it and text queries embed with it.
file(REMOVE ${WORK}/text_g.db)
run_mpe(out rc relevance import ${WORK}/text_g.db ${RELDATA}/nodes.csv ${RELDATA}/edges.csv
        --embedder minilm:${tiny} --json)
expect("rc EQUAL 0" "import --embedder failed: ${out}")
string(JSON dim GET "${out}" dim)
string(JSON who GET "${out}" embedder)
string(FIND "${who}" "minilm:" pos)
expect("dim EQUAL 32 AND pos EQUAL 0" "the store does not record the encoder: ${out}")
run_mpe(out rc relevance query ${WORK}/text_g.db "show me a calm ocean" --seed-threshold 0 --json)
expect("rc EQUAL 0" "a text query on an encoder store failed: ${out}")
string(JSON nseeds LENGTH "${out}" seeds)
expect("nseeds GREATER 0" "no seeds from the encoder's embedding: ${out}")
run_mpe(out rc relevance demo --embedder nonsense)
expect("rc EQUAL 2" "a bad --embedder gave rc=${rc}: ${out}")
string(FIND "${out}" "expected hashed, minilm, minilm:PATH or auto" pos)
expect("pos GREATER -1" "unclear error for a bad embedder: ${out}")

# The real encoder, when installed (tools/install_minilm.sh): a paraphrase without any word
# of the node titles reaches image generation.
if(NOT MINILM_DIR OR NOT EXISTS "${MINILM_DIR}/config.json")
  message(STATUS "SKIPPED: all-MiniLM-L6-v2 not installed; real-encoder CLI checks not run")
  return()
endif()
run_mpe(out rc embed --model ${MINILM_DIR} "paint me a tranquil sunset")
string(JSON dim GET "${out}" dim)
expect("rc EQUAL 0 AND dim EQUAL 384" "mpe embed with MiniLM failed: ${out}")
run_mpe(out rc relevance demo "draw something peaceful" --embedder minilm:${MINILM_DIR}
        --seed-threshold 0 --top-k 3 --json)
expect("rc EQUAL 0" "demo with MiniLM failed: ${out}")
string(FIND "${out}" "\"img_gen_capability\"" pos)
expect("pos GREATER -1" "MiniLM does not seed image generation for a paraphrase: ${out}")
