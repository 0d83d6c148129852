# `cmake --build <dir> --target format-check` fails when a C++ file is not formatted as
# .clang-format says; `--target format` rewrites them.
find_program(CLANG_FORMAT_EXE NAMES clang-format-14 clang-format)
if(CLANG_FORMAT_EXE)
  add_custom_target(format-check
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-format.sh ${CLANG_FORMAT_EXE}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} USES_TERMINAL)
  add_custom_target(format
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-format.sh ${CLANG_FORMAT_EXE} --fix
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} USES_TERMINAL)
endif()
