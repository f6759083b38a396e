#!/usr/bin/env bash
# postgres.sh starts a throw-away PostgreSQL 15 cluster for vipgate's
# storage/postgres tests and prints the shell lines that point the tests at
# it:
#
#	eval "$(bash .ci/postgres.sh)"
#	go test -race ./storage/postgres/...
#	bash .ci/postgres.sh stop        # uses $VIPGATE_PG_DIR, set by the eval
#
# Each run gets a directory of its own (mktemp -d) and a free port, so
# several runs on one host (two developers, two CI jobs) never share or
# remove each other's cluster. The stdout lines export VIPGATE_PG_DIR (the
# cluster's directory), VIPGATE_TEST_POSTGRES_CTL (the pg_ctl command line,
# without sub-command, that the restart test uses to stop and start the
# server) and, last,
#	export VIPGATE_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:PORT/vipgate_test?sslmode=disable
# Everything else goes to stderr or the cluster's log.
#
# Run again with VIPGATE_PG_DIR set (as it is after the eval), it reuses
# (and if needed restarts) that cluster. Stop and remove it with
#	bash .ci/postgres.sh stop [DIR]
# (DIR defaults to $VIPGATE_PG_DIR); stop removes only a directory this
# script made (it holds a .vipgate-ci-postgres marker).
#
# Settings (environment): VIPGATE_PG_DIR (reuse this cluster directory;
# default: a new one under ${TMPDIR:-/tmp}), VIPGATE_PG_PORT (first port
# to try; default a random one from 55432 to 57431). The cluster listens on
# 127.0.0.1 only, with trust authentication: it is for tests, never for data.
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
MARKER=.vipgate-ci-postgres
PORT=${VIPGATE_PG_PORT:-$((55432 + RANDOM % 2000))}
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
if [ "${1:-}" = stop ]; then
	DIR=${2:-${VIPGATE_PG_DIR:-}}
	if [ -z "$DIR" ]; then
		say "stop: give the cluster directory (bash .ci/postgres.sh stop DIR) or set VIPGATE_PG_DIR"
		exit 2
	fi
	if [ ! -e "$DIR/$MARKER" ]; then
		say "stop: $DIR was not made by postgres.sh (no $MARKER); not touching it"
		exit 1
	fi
	if [ -f "$DIR/data/PG_VERSION" ]; then
		as "$BIN/pg_ctl" -D "$DIR/data" stop -m fast >/dev/null 2>&1 || true
	fi
	rm -rf "$DIR"
	say "stopped and removed $DIR"
	exit 0
fi

if [ -n "${VIPGATE_PG_DIR:-}" ]; then
	DIR=$VIPGATE_PG_DIR
else
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/vipgate-ci-postgres.XXXXXX")
	touch "$DIR/$MARKER"
fi
DATA=$DIR/data
LOG=$DIR/server.log
CTL="$CTL_PREFIX$BIN/pg_ctl -D $DATA"

if [ ! -x "$BIN/pg_ctl" ]; then
	say "installing postgresql (Debian package)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq postgresql >/dev/null
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ ! -f "$DATA/PG_VERSION" ]; then
	if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/$MARKER" ]; then
		say "$DIR is not empty and was not made by postgres.sh; choose another VIPGATE_PG_DIR"
		exit 1
	fi
	install -d -m 0700 "$DIR"
	find "$DIR" -mindepth 1 -maxdepth 1 ! -name "$MARKER" -exec rm -rf {} +
	touch "$DIR/$MARKER"
	chown "$OWNER" "$DIR"
	chmod 0700 "$DIR"
	as "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
		{ cat "$DIR/initdb.log" >&2; exit 1; }
	# Everything the server needs is in the configuration, so that a plain
	# "pg_ctl -D DATA start" (the restart test) brings it back the same way.
	# The port is appended below; the last "port =" line counts.
	cat >>"$DATA/postgresql.conf" <<EOF

# vipgate CI cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = on
log_directory = 'log'
EOF
	NEWPORT=1
fi

configured_port() { sed -n 's/^port = \([0-9]*\)$/\1/p' "$DATA/postgresql.conf" | tail -n 1; }
set_port() { echo "port = $1" >>"$DATA/postgresql.conf"; }
if [ -n "${NEWPORT:-}" ]; then
	while port_busy "$PORT"; do PORT=$((PORT + 1)); done
	set_port "$PORT"
fi
PORT=$(configured_port)

# A new cluster whose port another run took a moment ago moves on to the
# next free one; an existing cluster keeps its port.
if ! as "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
	for try in 1 2 3 4 5; do
		if port_busy "$PORT"; then
			if [ -z "${NEWPORT:-}" ]; then
				say "port $PORT of the cluster in $DIR is taken by another server; stop it or remove $DIR"
				exit 1
			fi
			while port_busy "$PORT"; do PORT=$((PORT + 1)); done
			set_port "$PORT"
		fi
		if as "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
			break
		fi
		if [ -z "${NEWPORT:-}" ] || [ "$try" = 5 ]; then
			cat "$LOG" >&2; exit 1
		fi
		PORT=$((PORT + 1))
		set_port "$PORT"
	done
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
echo "export VIPGATE_PG_DIR=\"$DIR\""
echo "export VIPGATE_TEST_POSTGRES_CTL=\"$CTL\""
echo "export VIPGATE_TEST_POSTGRES_DSN=\"postgres://postgres@127.0.0.1:$PORT/$DB?sslmode=disable\""
