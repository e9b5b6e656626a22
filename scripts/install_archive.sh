#!/usr/bin/env bash
# Install the local VO archive: PostgreSQL 15 + pgsphere + DaCHS (gavodachs2-server),
# idempotently and without questions, on Debian 12 without systemd.
#
# Trap handled here: gavodachs2-server's post-install creates its database and
# therefore fails unless a PostgreSQL cluster is running. So: install PostgreSQL,
# start its cluster with pg_ctlcluster, then install DaCHS (and finish any
# half-configured dpkg state with `dpkg --configure -a`).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
say() { printf '\033[1m[astrohub archive]\033[0m %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  say "run as root (or with sudo): this installs Debian packages"; exit 1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $UPDATED = 0 ]; then apt-get update -qq; UPDATED=1; fi
  say "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
}

start_cluster() {
  # Start every PostgreSQL cluster that is down (pg_ctlcluster, no systemd).
  local ver name
  pg_lsclusters -h 2>/dev/null | while read -r ver name _port status _rest; do
    if [ "$status" != online ]; then
      say "starting PostgreSQL cluster $ver/$name"
      pg_ctlcluster "$ver" "$name" start
    fi
  done
}

# 1. A half-configured dpkg (e.g. an earlier gavodachs2-server post-install that found no
#    database) makes every apt-get install fail: start PostgreSQL, then finish it.
if command -v pg_lsclusters >/dev/null; then start_cluster; fi
if dpkg --audit 2>/dev/null | grep -q . ; then
  say "dpkg --configure -a (finishing an earlier, half-configured install)"
  dpkg --configure -a >/dev/null || say "dpkg --configure -a failed; retrying after PostgreSQL is installed"
fi

# 2. PostgreSQL and pgsphere (postgresql's own post-install creates the 15/main cluster).
apt_install postgresql postgresql-contrib postgresql-15-pgsphere
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  say "creating PostgreSQL cluster 15/main"
  pg_createcluster 15 main >/dev/null
fi
start_cluster
if dpkg --audit 2>/dev/null | grep -q . ; then dpkg --configure -a >/dev/null; fi

# 3. DaCHS itself, now that the database answers.
apt_install gavodachs2-server
if ! installed gavodachs2-server; then
  dpkg --configure -a >/dev/null
fi

# 4. Check: the command exists and pgsphere is available to the server.
command -v dachs >/dev/null || { say "ERROR: dachs not on PATH after install"; exit 1; }
[ -f /usr/share/postgresql/15/extension/pg_sphere.control ] || \
  { say "ERROR: pgsphere extension missing (postgresql-15-pgsphere)"; exit 1; }
say "DaCHS $(dpkg-query -W -f='${Version}' gavodachs2-server) ready"
