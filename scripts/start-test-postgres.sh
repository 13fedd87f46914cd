#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (Debian's, installed when missing) in a temporary directory, as
# the unprivileged `postgres` user, on a free loopback port, with fsync on (what the daemon's
# acknowledgements rely on). Prints the lines to eval:
#   eval "$(scripts/start-test-postgres.sh)"
# which export BOTCADENCE_TEST_POSTGRES_URL (a superuser connection: tests create a database
# each) and BOTCADENCE_TEST_POSTGRES_DIR; `scripts/start-test-postgres.sh stop DIR` stops it.
set -euo pipefail

if [ "${1:-}" = "stop" ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  su postgres -s /bin/sh -c "$bin/pg_ctl -D '$2/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$2"
  exit 0
fi

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "installing: postgresql" >&2
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends postgresql >&2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir=$(mktemp -d /tmp/botcadence-pg.XXXXXX)
chown postgres: "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
su postgres -s /bin/sh -c "$bin/initdb -D '$dir/data' -A trust -U postgres --no-instructions" >/dev/null
su postgres -s /bin/sh -c "$bin/pg_ctl -D '$dir/data' -l '$dir/log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on\" start" >/dev/null
echo "export BOTCADENCE_TEST_POSTGRES_URL='host=127.0.0.1 port=$port user=postgres dbname=postgres'"
echo "export BOTCADENCE_TEST_POSTGRES_DIR='$dir'"
