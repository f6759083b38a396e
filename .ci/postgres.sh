#!/usr/bin/env bash
# postgres.sh starts a throw-away PostgreSQL 15 cluster for vipgate's
# storage/postgres tests and prints the shell lines that point the tests at
# it:
#
#	eval "$(bash .ci/postgres.sh)"
#	go test -race ./storage/postgres/...
#
# The last stdout line is
#	export VIPGATE_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:PORT/vipgate_test?sslmode=disable
# and the line before it exports VIPGATE_TEST_POSTGRES_CTL, the pg_ctl
# command line (without sub-command) that the restart test uses to stop and
# start the server. Everything else goes to stderr or the cluster's log.
#
# The script is idempotent: run again, it reuses (and if needed restarts) the
# cluster in $VIPGATE_PG_DIR. Stop and remove the cluster with
#	bash .ci/postgres.sh stop
#
# Settings (environment): VIPGATE_PG_DIR (default ${TMPDIR:-/tmp}/vipgate-ci-postgres),
# VIPGATE_PG_PORT (first port to try, default 55432). The cluster listens on
# 127.0.0.1 only, with trust authentication: it is for tests, never for data.
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
DIR=${VIPGATE_PG_DIR:-${TMPDIR:-/tmp}/vipgate-ci-postgres}
DATA=$DIR/data
LOG=$DIR/server.log
PORT=${VIPGATE_PG_PORT:-55432}
DB=vipgate_test

say() { echo "postgres.sh: $*" >&2; }

# as runs a command as the cluster owner: the postgres system user when we
# are root (initdb refuses to run as root), else the current user.
if [ "$(id -u)" = 0 ]; then
	OWNER=postgres
	as() { runuser -u postgres -- "$@"; }
	CTL_PREFIX="runuser -u postgres -- "
else
	OWNER=$(id -un)
	as() { "$@"; }
	CTL_PREFIX=""
fi
CTL="$CTL_PREFIX$BIN/pg_ctl -D $DATA"

if [ "${1:-}" = stop ]; then
	if [ -f "$DATA/PG_VERSION" ]; then
		as "$BIN/pg_ctl" -D "$DATA" stop -m fast >/dev/null 2>&1 || true
	fi
	rm -rf "$DIR"
	say "stopped and removed $DIR"
	exit 0
fi

if [ ! -x "$BIN/pg_ctl" ]; then
	say "installing postgresql (Debian package)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq postgresql >/dev/null
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ ! -f "$DATA/PG_VERSION" ]; then
	rm -rf "$DIR"
	install -d -m 0700 -o "$OWNER" "$DIR"
	as "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
		{ cat "$DIR/initdb.log" >&2; exit 1; }
	while port_busy "$PORT"; do PORT=$((PORT + 1)); done
	# Everything the server needs is in the configuration, so that a plain
	# "pg_ctl -D DATA start" (the restart test) brings it back the same way.
	cat >>"$DATA/postgresql.conf" <<EOF

# vipgate CI cluster
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = on
log_directory = 'log'
EOF
fi
PORT=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$DATA/postgresql.conf" | tail -n 1)

if ! as "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
	if port_busy "$PORT"; then
		say "port $PORT is taken by another server; remove $DIR or set VIPGATE_PG_PORT"
		exit 1
	fi
	as "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null ||
		{ cat "$LOG" >&2; exit 1; }
fi

for _ in $(seq 1 60); do
	as "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
	sleep 0.5
done
as "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || { say "server did not become ready"; exit 1; }

if [ -z "$(as "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
	as "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi

echo "# vipgate test PostgreSQL in $DIR on 127.0.0.1:$PORT; stop with: bash .ci/postgres.sh stop"
echo "export VIPGATE_TEST_POSTGRES_CTL=\"$CTL\""
echo "export VIPGATE_TEST_POSTGRES_DSN=\"postgres://postgres@127.0.0.1:$PORT/$DB?sslmode=disable\""
