#!/usr/bin/env bash
# make test's pytest: the suite's two lanes (tests/conftest.py: lane) as two processes at once, each line
# prefixed with its lane. The services lane mostly waits on the hub, the archive and Chromium while the cpu
# lane computes, so together they take about the longer of the two instead of the sum.
# Extra arguments go to both (e.g. -x, -k NAME). Exit status: non-zero if either lane failed.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
( "$py" -m pytest --lane services "$@" 2>&1 | sed -u 's/^/[services] /'; exit "${PIPESTATUS[0]}" ) &
services=$!
"$py" -m pytest --lane cpu "$@" 2>&1 | sed -u 's/^/[cpu] /'
cpu=${PIPESTATUS[0]}
wait "$services"
services_rc=$?
echo "test lanes: cpu exit $cpu, services exit $services_rc"
[ "$cpu" -eq 0 ] && [ "$services_rc" -eq 0 ]
