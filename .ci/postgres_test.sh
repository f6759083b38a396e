#!/usr/bin/env bash
# postgres_test.sh checks .ci/postgres.sh: two runs at once get their own
# directory and port, stopping one leaves the other running, a re-run with
# VIPGATE_PG_DIR reuses its cluster, and stop refuses a directory the
# script did not make. .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "postgres_test.sh: FAIL: $*" >&2; exit 1; }
field() { sed -n "s/^export $1=\"\\(.*\\)\"$/\\1/p" <<<"$2"; }
port() { sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' <<<"$1"; }
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

unset VIPGATE_PG_DIR VIPGATE_PG_PORT
a=$(mktemp) b=$(mktemp)
trap 'for d in "${dir_a:-}" "${dir_b:-}"; do [ -n "$d" ] && bash .ci/postgres.sh stop "$d" >/dev/null 2>&1; done; rm -f "$a" "$b"' EXIT
# Two runs at once, from the same first port: the worst case.
VIPGATE_PG_PORT=56990 bash .ci/postgres.sh >"$a" 2>/dev/null & pa=$!
VIPGATE_PG_PORT=56990 bash .ci/postgres.sh >"$b" 2>/dev/null & pb=$!
wait "$pa" || fail "first run failed"
wait "$pb" || fail "second run failed"
out_a=$(cat "$a") out_b=$(cat "$b")
dir_a=$(field VIPGATE_PG_DIR "$out_a") dir_b=$(field VIPGATE_PG_DIR "$out_b")
port_a=$(port "$(field VIPGATE_TEST_POSTGRES_DSN "$out_a")") port_b=$(port "$(field VIPGATE_TEST_POSTGRES_DSN "$out_b")")
[ -n "$dir_a" ] && [ -n "$dir_b" ] && [ "$dir_a" != "$dir_b" ] || fail "directories '$dir_a' and '$dir_b'"
[ -n "$port_a" ] && [ -n "$port_b" ] && [ "$port_a" != "$port_b" ] || fail "ports '$port_a' and '$port_b'"
up "$port_a" && up "$port_b" || fail "a cluster is not listening"

# A re-run with VIPGATE_PG_DIR reuses that cluster.
again=$(VIPGATE_PG_DIR=$dir_a bash .ci/postgres.sh 2>/dev/null)
[ "$(field VIPGATE_PG_DIR "$again")" = "$dir_a" ] || fail "re-run did not reuse $dir_a"
[ "$(port "$(field VIPGATE_TEST_POSTGRES_DSN "$again")")" = "$port_a" ] || fail "re-run changed the port"

# Stopping one leaves the other alone.
VIPGATE_PG_DIR=$dir_a bash .ci/postgres.sh stop 2>/dev/null
[ ! -e "$dir_a" ] || fail "stop left $dir_a"
up "$port_b" || fail "stopping the first cluster stopped the second"
[ -d "$dir_b/data" ] || fail "stopping the first cluster removed the second"
dir_a=

# stop touches only directories the script made, and needs one named.
other=$(mktemp -d)
if bash .ci/postgres.sh stop "$other" 2>/dev/null; then fail "stop accepted a foreign directory"; fi
[ -d "$other" ] || fail "stop removed a foreign directory"
rmdir "$other"
if (unset VIPGATE_PG_DIR; bash .ci/postgres.sh stop 2>/dev/null); then fail "stop without a directory succeeded"; fi

bash .ci/postgres.sh stop "$dir_b" 2>/dev/null
dir_b=
echo "postgres_test.sh: ok (clusters on ports $port_a and $port_b)"
