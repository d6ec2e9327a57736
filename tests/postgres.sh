#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: `tests/postgres.sh start [MARKER]` (what `make postgres` runs) or
# `stop`. With MARKER, start writes that file only when it started the server (`make test` stops only those).
#
# start: installs Debian's postgresql when its binaries are missing (apt-get, with sudo unless root), makes a
# cluster in $MONITOR_TEST_PG_DIR (default /tmp/monitor-test-pg-<hash of this checkout>) with trust auth,
# fsync off, listening on 127.0.0.1 at a free port only, starts it, creates the database `monitor_test`, and
# writes its URL to var/test-postgres.url, which tests/conftest.py reads. Run as root, the server runs as the
# `postgres` user (PostgreSQL refuses root). Idempotent: a running cluster is reused in well under a second.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
URL_FILE="$ROOT/var/test-postgres.url"
BASE=${MONITOR_TEST_PG_DIR:-${TMPDIR:-/tmp}/monitor-test-pg-$(printf %s "$ROOT" | md5sum | cut -c1-8)}
DATA="$BASE/data"
DB=monitor_test

say() { echo "postgres: $*" >&2; }

find_bin() {  # the newest installed server's bin folder (Debian keeps them off PATH)
	local dir
	dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
	if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then dirname "$(command -v pg_ctl)"; fi
}

BIN=$(find_bin)
if [ -z "$BIN" ]; then
	if [ "${1:-start}" = stop ]; then exit 0; fi
	say "installing Debian's postgresql"
	SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
	BIN=$(find_bin)
	[ -n "$BIN" ] || { say "no pg_ctl after installing postgresql"; exit 1; }
fi

if [ "$(id -u)" = 0 ]; then  # the server never runs as root
	if ! id postgres >/dev/null 2>&1; then useradd --system --no-create-home --shell /usr/sbin/nologin postgres; fi
	as_server() { runuser -u postgres -- "$@"; }
else
	as_server() { "$@"; }
fi

running() { [ -f "$DATA/postmaster.pid" ] && as_server "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

case "${1:-start}" in
stop)
	if running; then as_server "$BIN/pg_ctl" stop -D "$DATA" -m fast >/dev/null; say "stopped $DATA"; fi
	rm -f "$URL_FILE"
	exit 0
	;;
start) ;;
*) echo "usage: $0 start [MARKER]|stop" >&2; exit 2 ;;
esac

mkdir -p "$ROOT/var"
if running && [ -f "$URL_FILE" ] && "$BIN/pg_isready" -q -d "$(sed 's/+psycopg//' "$URL_FILE")"; then
	exit 0  # already up: nothing to do
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
	rm -rf "$BASE"
	mkdir -p "$BASE"
	chmod 700 "$BASE"
	[ "$(id -u)" = 0 ] && chown postgres: "$BASE"
	as_server "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$BASE/initdb.log" \
		|| { cat "$BASE/initdb.log" >&2; exit 1; }
fi
if ! running; then
	STARTING=1
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# Throwaway data: durability off for speed; TCP on loopback only; the socket in our own folder.
	as_server "$BIN/pg_ctl" start -D "$DATA" -l "$BASE/server.log" -w -t 60 \
		-o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$BASE -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null \
		|| { tail -n 20 "$BASE/server.log" >&2; exit 1; }
fi
PORT=$(sed -n 4p "$DATA/postmaster.pid")
if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" \
	| grep -q 1; then
	"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB" >"$URL_FILE"
if [ -n "${STARTING:-}" ] && [ -n "${2:-}" ]; then touch "$2"; fi
say "$(cat "$URL_FILE") (data in $DATA)"
