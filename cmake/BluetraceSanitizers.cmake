# BLUETRACE_SANITIZE=address adds ASan+UBSan; =thread adds TSan. Applied globally so that
# the library, tests and programs agree.
if(BLUETRACE_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(BLUETRACE_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT BLUETRACE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "BLUETRACE_SANITIZE must be empty, 'address' or 'thread', not "
                      "'${BLUETRACE_SANITIZE}'")
endif()

if(BLUETRACE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BLUETRACE_FUZZ needs clang (libFuzzer); this tree uses "
                        "${CMAKE_CXX_COMPILER_ID}. Use the 'fuzz' preset: "
                        "cmake --preset fuzz")
  endif()
  # Library code is instrumented for coverage; fuzz targets link the fuzzer runtime.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
