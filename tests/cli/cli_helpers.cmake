# Shared by the CLI test scripts (check_cli*.cmake), which CTest runs with cmake -P.
# run_mpe(OUT RC args...): runs ${MPE} with the arguments; OUT gets stdout and stderr, RC the exit code.
function(run_mpe out_var rc_var)
  execute_process(COMMAND ${MPE} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${out_var} "${out}${err}" PARENT_SCOPE)
  set(${rc_var} ${rc} PARENT_SCOPE)
endfunction()
# expect("<if() condition>" "message"): fails the test when the condition is false.
macro(expect cond msg)
  cmake_language(EVAL CODE "if(NOT (${cond}))\n message(FATAL_ERROR [==[${msg}]==])\nendif()")
endmacro()
