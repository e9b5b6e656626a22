#!/usr/bin/env bash
# Build the demo survey once into the volume, start PostgreSQL + DaCHS, and stay in the
# foreground while DaCHS runs (the pod ends when it stops).
# State lives on the chart's volume (/var/lib/astrohub); DaCHS answers on port 8080, the
# container port the chart's Service targets.
# Not yet reachable through the Service: `astrohub archive` binds DaCHS to 127.0.0.1 only
# (astrohub.archive.server has no bind-address option yet); see README "Security model".
set -euo pipefail
SEED=1; SIZE=small
DATA=/var/lib/astrohub/archive
PORT=8080
while [ $# -gt 0 ]; do case $1 in --seed) SEED=$2; shift 2;; --size) SIZE=$2; shift 2;; *) shift;; esac; done
cd /opt/astrohub
if ! .venv/bin/astrohub archive status --data-dir "$DATA" --port "$PORT" >/dev/null 2>&1; then
  .venv/bin/astrohub archive build --data-dir "$DATA" --port "$PORT" --seed "$SEED" --size "$SIZE"
fi
.venv/bin/astrohub archive start --data-dir "$DATA" --port "$PORT" --seed "$SEED" --size "$SIZE"
trap '.venv/bin/astrohub archive stop --data-dir "$DATA" --port "$PORT"' TERM INT
while .venv/bin/astrohub archive status --data-dir "$DATA" --port "$PORT" >/dev/null; do sleep 30 & wait $!; done
