# The programs: thin main()s over bluetrace_core.
add_executable(bluetrace-server ${CMAKE_CURRENT_LIST_DIR}/server_main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_setup.cpp)
target_link_libraries(bluetrace-server PRIVATE bluetrace_core CLI11::CLI11 PkgConfig::LIBSYSTEMD)
bluetrace_warnings(bluetrace-server)
install(TARGETS bluetrace-server RUNTIME DESTINATION bin)
set_target_properties(bluetrace-server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)

# The client's front end (prompts, libedit, scripted stdin) as a library, so tests can run
# it over a fake ClientController.
add_library(bluetrace_client_frontend STATIC
  ${CMAKE_CURRENT_LIST_DIR}/client_frontend.cpp ${CMAKE_CURRENT_LIST_DIR}/client_terminal.cpp)
target_include_directories(bluetrace_client_frontend PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(bluetrace_client_frontend PUBLIC bluetrace_core PkgConfig::LIBEDIT)
bluetrace_warnings(bluetrace_client_frontend)
add_executable(bluetrace-client ${CMAKE_CURRENT_LIST_DIR}/client_main.cpp)
target_link_libraries(bluetrace-client PRIVATE bluetrace_client_frontend CLI11::CLI11)
bluetrace_warnings(bluetrace-client)
install(TARGETS bluetrace-client RUNTIME DESTINATION bin)
set_target_properties(bluetrace-client PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)

add_executable(bluetrace-admin ${CMAKE_CURRENT_LIST_DIR}/admin_main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/admin_commands.cpp ${CMAKE_CURRENT_LIST_DIR}/admin_verify.cpp
  ${CMAKE_CURRENT_LIST_DIR}/admin_operator.cpp ${CMAKE_CURRENT_LIST_DIR}/admin_format.cpp
  ${CMAKE_CURRENT_LIST_DIR}/admin_reports.cpp ${CMAKE_CURRENT_LIST_DIR}/admin_audit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/admin_db.cpp ${CMAKE_CURRENT_LIST_DIR}/admin_staff.cpp)
target_link_libraries(bluetrace-admin PRIVATE bluetrace_core CLI11::CLI11)
bluetrace_warnings(bluetrace-admin)
install(TARGETS bluetrace-admin RUNTIME DESTINATION bin)
set_target_properties(bluetrace-admin PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
