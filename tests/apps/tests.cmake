bluetrace_test(apps server)
add_dependencies(server_test bluetrace-server)
