# Warnings are errors in project code (not in third-party headers, which come in as SYSTEM).
function(mpe_project_warnings target)
  set(_cxx -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
           -Woverloaded-virtual -Wimplicit-fallthrough)
  if(MPE_WERROR)
    list(APPEND _cxx -Werror)
  endif()
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${_cxx}>)
  if(MPE_HAVE_CUDA)
    # ptxas spill warnings are set per kernel file (engine/CMakeLists.txt), so that a kernel
    # measured to run faster with a few spills can be exempted by name.
    set(_cu -Xcompiler=-Wall,-Wextra)
    if(MPE_WERROR)
      list(APPEND _cu -Werror=all-warnings)
    endif()
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:${_cu}>)
  endif()
endfunction()

if(MPE_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>)
  add_link_options(-fsanitize=address,undefined)
endif()

if(MPE_TSAN)
  if(MPE_SANITIZE)
    message(FATAL_ERROR "MPE_TSAN and MPE_SANITIZE cannot be combined")
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=thread>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=thread)
endif()
