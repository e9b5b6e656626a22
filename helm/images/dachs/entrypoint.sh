#!/usr/bin/env bash
# Build the demo survey once into the volume, start PostgreSQL + DaCHS, and stay in the
# foreground while DaCHS runs (the pod ends when it stops).
# State lives on the chart's volume (/var/lib/astrohub); DaCHS answers on port 8080, the
# container port the chart's Service targets. The chart passes --bind 0.0.0.0 (the Service must
# reach the pod; its NetworkPolicy admits only the hub and user servers) and --url, the Service's
# URL, which DaCHS writes into its responses. Without them DaCHS listens on 127.0.0.1 only.
set -euo pipefail
SEED=1; SIZE=small; BIND=127.0.0.1; URL=
DATA=/var/lib/astrohub/archive
PORT=8080
while [ $# -gt 0 ]; do case $1 in
  --seed) SEED=$2; shift 2;; --size) SIZE=$2; shift 2;; --bind) BIND=$2; shift 2;; --url) URL=$2; shift 2;;
  *) shift;; esac; done
URL=${URL:-http://$BIND:$PORT}
cd /opt/astrohub
if ! .venv/bin/astrohub archive status --data-dir "$DATA" --port "$PORT" --bind "$BIND" --url "$URL" >/dev/null 2>&1; then
  .venv/bin/astrohub archive build --data-dir "$DATA" --port "$PORT" --bind "$BIND" --url "$URL" --seed "$SEED" --size "$SIZE"
fi
.venv/bin/astrohub archive start --data-dir "$DATA" --port "$PORT" --bind "$BIND" --url "$URL" --seed "$SEED" --size "$SIZE"
trap '.venv/bin/astrohub archive stop --data-dir "$DATA" --port "$PORT" --bind "$BIND" --url "$URL"' TERM INT
while .venv/bin/astrohub archive status --data-dir "$DATA" --port "$PORT" --bind "$BIND" --url "$URL" >/dev/null; do
  sleep 30 & wait $!
done
