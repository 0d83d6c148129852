# The programs: thin main()s over bluetrace_core.
add_executable(bluetrace-server ${CMAKE_CURRENT_LIST_DIR}/server_main.cpp)
target_link_libraries(bluetrace-server PRIVATE bluetrace_core CLI11::CLI11)
bluetrace_warnings(bluetrace-server)
install(TARGETS bluetrace-server RUNTIME DESTINATION bin)
set_target_properties(bluetrace-server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
