#!/usr/bin/env bash
# Build the demo survey once into the volume, then serve it (DaCHS on 0.0.0.0:8080 in the pod).
set -euo pipefail
SEED=1; SIZE=small
while [ $# -gt 0 ]; do case $1 in --seed) SEED=$2; shift 2;; --size) SIZE=$2; shift 2;; *) shift;; esac; done
cd /opt/astrohub
export ASTROHUB_ARCHIVE_IP=0.0.0.0 ASTROHUB_ARCHIVE_PORT=8080
.venv/bin/astrohub archive build --seed "$SEED" --size "$SIZE"
exec .venv/bin/astrohub archive start --foreground
