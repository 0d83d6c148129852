bluetrace_test(service server_config)
