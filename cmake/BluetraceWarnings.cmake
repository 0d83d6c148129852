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
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 reports false positives inside Asio/Beast once optimising (epoll_reactor's
    # reactor_data_) and under sanitizers; clang's -Wuninitialized builds keep the check.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND BLUETRACE_SANITIZE)
    # Asio's fences under TSan.
    if(BLUETRACE_SANITIZE MATCHES "thread")
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
  if(BLUETRACE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
