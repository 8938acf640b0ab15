#!/usr/bin/env bash
# PostgreSQL for the tests, as CI's machine kind does not start one: Debian's `postgresql`,
# installed when missing, serving a cluster of its own on 127.0.0.1:5432 with trust auth.
# The cluster lives outside the checkout (PGDATA below) so a clean clone reuses it, and is
# tuned for tests (no fsync): it holds only databases the tests create and drop.
# Idempotent: when something already answers on the port, nothing is done.
set -euo pipefail
PORT="${SIDEARM_PG_PORT:-5432}"
PGDATA="${SIDEARM_PGDATA:-/var/tmp/sidearm-postgres}"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(find_bin)" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed and this is not root: the PostgreSQL tests will be skipped"; exit 0
  fi
  echo "installing Debian's postgresql"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi
BIN="$(find_bin)"

if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  echo "PostgreSQL answers on 127.0.0.1:$PORT"; exit 0
fi

# The server refuses to run as root: as root it runs as Debian's `postgres` user.
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); owner=postgres; else as_owner=(); owner="$(id -un)"; fi

if [ ! -f "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chown "$owner" "$PGDATA" && chmod 700 "$PGDATA"
  "${as_owner[@]}" "$BIN/initdb" --pgdata="$PGDATA" --username=postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PGDATA.initdb.log"
fi
"${as_owner[@]}" "$BIN/pg_ctl" --pgdata="$PGDATA" --wait --log="$PGDATA/server.log" start \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PGDATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"
echo "PostgreSQL started on 127.0.0.1:$PORT (data $PGDATA, log $PGDATA/server.log)"
