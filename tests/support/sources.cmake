target_sources(bluetrace_test_support PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/temp_dir.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fault_injection_fs.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_process.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_process.cpp
  ${CMAKE_CURRENT_LIST_DIR}/postgres_server.cpp
)
