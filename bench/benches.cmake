bluetrace_bench(tempid_store)
bluetrace_bench(auth_timing)
bluetrace_bench(server_load)
bluetrace_bench(idle_sessions)
bluetrace_bench(login_flood)
bluetrace_bench(pg)
# pg_bench applies the schema of packaging/sql to its throwaway cluster.
target_compile_definitions(pg_bench PRIVATE BLUETRACE_SQL_DIR="${PROJECT_SOURCE_DIR}/packaging/sql")
bluetrace_bench(login_bound)
# login_bound_bench calls libargon2 directly, and libsodium's Argon2id beside it when
# pkg-config finds libsodium (linked into this bench only; the server keeps libargon2).
target_link_libraries(login_bound_bench PRIVATE PkgConfig::ARGON2)
pkg_check_modules(SODIUM IMPORTED_TARGET libsodium)
if(SODIUM_FOUND)
  target_link_libraries(login_bound_bench PRIVATE PkgConfig::SODIUM)
  target_compile_definitions(login_bound_bench PRIVATE BLUETRACE_HAVE_LIBSODIUM=1)
else()
  message(STATUS "libsodium not found: login_bound_bench skips its libsodium line")
endif()
