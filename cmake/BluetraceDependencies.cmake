# Every dependency comes from Debian 12's packages (scripts/install-deps.sh); nothing is
# downloaded at configure or build time.
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
# The console's templates (libmstch-dev): HTML-escaping {{ }} by default.
find_package(mstch CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
pkg_check_modules(LIBEDIT REQUIRED IMPORTED_TARGET libedit)
# sd_notify for the server under systemd (Type=notify).
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# libpq (PostgreSQL's C client) for the PostgreSQL backend (store/postgres/).
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
if(BLUETRACE_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  include(GoogleTest)
endif()
if(BLUETRACE_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
