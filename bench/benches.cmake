bluetrace_bench(tempid_store)
bluetrace_bench(auth_timing)
bluetrace_bench(server_load)
bluetrace_bench(idle_sessions)
bluetrace_bench(login_flood)
bluetrace_bench(pg)
# pg_bench applies the schema of packaging/sql to its throwaway cluster.
target_compile_definitions(pg_bench PRIVATE BLUETRACE_SQL_DIR="${PROJECT_SOURCE_DIR}/packaging/sql")
