# The bash completions of packaging/bash-completion/, completed in a clean bash.
add_test(NAME bash_completion
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/packaging/bash_completion_test.sh
          ${PROJECT_SOURCE_DIR}/packaging/bash-completion)
set_tests_properties(bash_completion PROPERTIES LABELS packaging)

# The repository is self-contained: no file refers to documents outside it, and every
# `docs/ORIGINAL.md §N` names a section that exists. The self-test plants faults in a
# temporary tree and checks that the check catches each one.
add_test(NAME self_contained
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/packaging/self_contained_test.sh ${PROJECT_SOURCE_DIR})
add_test(NAME self_contained_selftest
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/packaging/self_contained_test.sh --self-test)
set_tests_properties(self_contained self_contained_selftest PROPERTIES LABELS packaging)
