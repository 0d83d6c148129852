# Strict warnings for bluetrace's own targets only; Debian's headers under /usr/include are
# system headers and stay quiet.
function(bluetrace_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Checks the GUARDED_BY / REQUIRES annotations of util/thread_annotations.hpp.
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND BLUETRACE_SANITIZE)
    # False positive inside Beast under sanitizers; Asio's fences under TSan.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    if(BLUETRACE_SANITIZE MATCHES "thread")
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
  if(BLUETRACE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
