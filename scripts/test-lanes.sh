#!/usr/bin/env bash
# make test's pytest: the suite's two lanes (tests/conftest.py: lane) as two processes at once, each line
# prefixed with its lane; the cpu lane's live archive gets its own port and folder. On 2 cores one pytest
# keeps them about half busy (it waits on the hub, DaCHS, Chromium, Dask); two lanes fill the gaps.
# Extra arguments go to both (e.g. -x, -k NAME). Exit status: non-zero if either lane failed.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
( "$py" -m pytest --lane services "$@" 2>&1 | sed -u 's/^/[services] /'; exit "${PIPESTATUS[0]}" ) &
services=$!
ASTROHUB_TEST_ARCHIVE_PORT=18391 ASTROHUB_TEST_ARCHIVE_DIR="$PWD/.astrohub-test/archive-cpu" \
    "$py" -m pytest --lane cpu "$@" 2>&1 | sed -u 's/^/[cpu] /'
cpu=${PIPESTATUS[0]}
wait "$services"
services_rc=$?
echo "test lanes: cpu exit $cpu, services exit $services_rc"
[ "$cpu" -eq 0 ] && [ "$services_rc" -eq 0 ]
