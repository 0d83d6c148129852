bluetrace_bench(tempid_store)
bluetrace_bench(auth_timing)
bluetrace_bench(server_load)
bluetrace_bench(login_flood)
