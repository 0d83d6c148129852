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

# scripts/deploy-demo.sh run for real: PostgreSQL, two servers as the least-privilege role,
# HAProxy, a client served again after an instance is killed; nothing left behind, also
# after SIGTERM half-way; docs/DEPLOYMENT.md's grants are the script's. Skipped (77) only
# without haproxy when not root. Needs bluetrace-server, -client and -admin built.
add_test(NAME deploy_demo
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/packaging/deploy_demo_test.sh ${PROJECT_SOURCE_DIR}
          $<TARGET_FILE_DIR:bluetrace-server>)
set_tests_properties(deploy_demo PROPERTIES LABELS packaging TIMEOUT 300
  SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
