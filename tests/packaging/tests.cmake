# The bash completions of packaging/bash-completion/, completed in a clean bash.
add_test(NAME bash_completion
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/packaging/bash_completion_test.sh
          ${PROJECT_SOURCE_DIR}/packaging/bash-completion)
set_tests_properties(bash_completion PROPERTIES LABELS packaging)
