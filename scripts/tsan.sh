#!/usr/bin/env bash
# Builds the `tsan` preset (clang ThreadSanitizer) and runs the tests that exercise
# threads: the worker pool, the login path, the stores' concurrent writers, the server and
# the client controller, and the PostgreSQL pool, stores and instances. Slower than the other presets; not part of scripts/test.sh.
# Usage: scripts/tsan.sh [ctest -R regex]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
scripts/install-deps.sh >/dev/null
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$(nproc)"
regex=${1:-"WorkerPool|LoginDefence|DeviceLockout|LockoutStore|CredentialsStore|TempIdStore|ReportingServer|ClientController|PgConnection|PgLockoutStore|PgAuditTrail|PostgresService|Contract|MultiInstance"}
TSAN_OPTIONS=halt_on_error=1 ctest --preset tsan -R "$regex"
