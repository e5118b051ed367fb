#!/usr/bin/env bash
# db/citus.sh — a private Citus cluster: a coordinator and two workers, each a
# cluster of db/devdb.sh with Citus preloaded, as make test-citus and
# make bench CITUS=1 use it. The service talks to the coordinator only.
#
# Usage: db/citus.sh start|stop|url|status|port N|template|recreate NAME|restart|stop-worker N|start-worker N
#
#   start           start the three servers (or reuse them), create the
#                   database "feddi" and the citus extension on each, and
#                   register the workers with the coordinator; the last line
#                   on stdout is the coordinator's URL
#   stop            stop all three
#   url             print the coordinator's URL
#   status          exit 0 if all three run
#   port N          print the port of node N (0 the coordinator, 1 and 2 the workers)
#   stop-worker N   stop worker N (1 or 2) alone, for an outage
#   start-worker N  start worker N (1 or 2) again
#   restart         restart all three (ends every session, and so the Citus
#                   maintenance daemons of databases nobody uses since)
#   template        (re)create the database feddi_template on every node,
#                   citus in it and the workers registered, for
#                   `feddi migrate` to prepare; the tests clone it on every
#                   node (internal/platform/testdb); its URL is the last line
#   recreate NAME   the same for database NAME (make bench CITUS=1)
#
# Environment:
#   FEDDI_PG_PORT=54329        the single cluster of db/devdb.sh; the Citus
#                              nodes default to ports below it (see below)
#   FEDDI_CITUS_PORT=PG_PORT-28000  the coordinator's port; the workers take
#                              the next two
#   FEDDI_CITUS_DIR=/abs       where the three clusters live (default
#                              <repo>/.data/citus, or beside FEDDI_PG_DIR
#                              when that is set)
#   FEDDI_PG_FAST=1            as for db/devdb.sh (tests: no fsync)
#   FEDDI_CITUS_SHARDS=8       shards per distributed table (citus.shard_count)
#
# Citus is not packaged by Debian. When the extension is missing and a
# shared/citus/build.sh is found beside the repository or a folder above it,
# this script runs it as root (it builds Citus 13.2 from source into the
# machine's PostgreSQL 15). Elsewhere install Citus from its official packages.
set -euo pipefail

say() { printf 'citus.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DEVDB="$REPO_ROOT/db/devdb.sh"
PG_PORT="${FEDDI_PG_PORT:-54329}"
[[ $PG_PORT =~ ^[0-9]+$ ]] || die "FEDDI_PG_PORT must be a TCP port number, got '$PG_PORT'"
# Below Linux's ephemeral port range, like db/pgbouncer.sh's.
if ((PG_PORT > 29024)); then default_port=$((PG_PORT - 28000)); else default_port=$((PG_PORT + 2000)); fi
BASE_PORT="${FEDDI_CITUS_PORT:-$default_port}"
if ! [[ $BASE_PORT =~ ^[0-9]+$ ]] || ((BASE_PORT < 1 || BASE_PORT > 65533)); then
    die "FEDDI_CITUS_PORT must be a TCP port number (1-65533), got '$BASE_PORT'"
fi
if [[ -n ${FEDDI_CITUS_DIR:-} ]]; then
    ROOT="${FEDDI_CITUS_DIR%/}"
elif [[ -n ${FEDDI_PG_DIR:-} ]]; then
    ROOT="${FEDDI_PG_DIR%/}-citus" # beside the single cluster, as db/pgbouncer.sh does
else
    ROOT="$REPO_ROOT/.data/citus"
fi
[[ $ROOT == /* ]] || die "FEDDI_CITUS_DIR must be an absolute path, got '$ROOT'"
readonly NODES=(coordinator worker1 worker2)

# Citus first in shared_preload_libraries; two-phase commit for
# transactions that write on more than one node; triggers on distributed
# tables (the ledger's money rules run on each shard, see docs/operations.md).
export FEDDI_PG_PRELOAD=citus
# A few shards per table: enough to spread merchants over both workers,
# few enough that a test database is quick to clone.
SHARDS="${FEDDI_CITUS_SHARDS:-8}"
[[ $SHARDS =~ ^[1-9][0-9]*$ ]] || die "FEDDI_CITUS_SHARDS must be a positive number, got '$SHARDS'"
export FEDDI_PG_OPTS="-c max_worker_processes=64 -c max_prepared_transactions=200 -c citus.enable_unsafe_triggers=on -c citus.shard_count=$SHARDS"

node_port() { echo $((BASE_PORT + $1)); }

devdb() { # devdb N command...
    local n=$1
    shift
    FEDDI_PG_DIR="$ROOT/${NODES[$n]}" FEDDI_PG_PORT="$(node_port "$n")" bash "$DEVDB" "$@"
}

url() { printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable\n' "$(node_port 0)" "${1:-feddi}"; }

psql_node() { # psql_node N DATABASE SQL
    local bindir
    bindir="$(devdb "$1" bindir)"
    PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -tA -h 127.0.0.1 -p "$(node_port "$1")" -U postgres -d "$2" -c "$3"
}

# setup_db NAME: the database on every node, citus in it, the workers
# registered with the coordinator (node metadata is per database).
setup_db() {
    local db=$1 n port
    for n in 0 1 2; do
        if [[ $(psql_node "$n" postgres "SELECT count(*) FROM pg_database WHERE datname = '$db'") == 0 ]]; then
            psql_node "$n" postgres "CREATE DATABASE $db"
        fi
        psql_node "$n" "$db" "CREATE EXTENSION IF NOT EXISTS citus"
    done
    psql_node 0 "$db" "SELECT citus_set_coordinator_host('127.0.0.1', $(node_port 0))" >/dev/null
    for n in 1 2; do
        port="$(node_port "$n")"
        psql_node 0 "$db" "SELECT citus_add_node('127.0.0.1', $port) WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodeport = $port)" >/dev/null
    done
}

# find_build_script prints shared/citus/build.sh of this folder or one above it.
find_build_script() {
    local dir=$REPO_ROOT
    while [[ $dir != / ]]; do
        for candidate in "$dir/shared/citus/build.sh" "$dir/../shared/citus/build.sh"; do
            if [[ -f $candidate ]]; then
                printf '%s\n' "$candidate"
                return 0
            fi
        done
        dir="$(dirname "$dir")"
    done
    return 1
}

ensure_citus() {
    local bindir sharedir script
    bindir="$(devdb 0 bindir 2>/dev/null)" || { devdb 0 start >/dev/null && devdb 0 stop; bindir="$(devdb 0 bindir)"; }
    sharedir="$("$bindir/pg_config" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$(basename "$(dirname "$bindir")")")"
    [[ -f $sharedir/extension/citus.control ]] && return 0
    if script="$(find_build_script)" && [[ $(id -u) -eq 0 ]]; then
        say "the citus extension is missing: building it with $script (2-3 minutes)"
        bash "$script" >&2 || die "building Citus failed"
        return 0
    fi
    cat >&2 <<EOF
citus.sh: the citus extension is not installed into the PostgreSQL of $bindir.
  Install Citus for that PostgreSQL major version from its official packages
  (https://docs.citusdata.com/en/stable/installation/), or, on a machine with
  the shared Citus source, run its shared/citus/build.sh as root.
EOF
    exit 1
}

cmd_start() {
    local n
    ensure_citus
    mkdir -p "$ROOT"
    for n in 0 1 2; do devdb "$n" start >/dev/null; done
    setup_db feddi
    url
}

cmd_recreate() {
    local db=$1 n
    [[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || die "a database name is lower-case letters, digits and _, got '$db'"
    for n in 0 1 2; do
        psql_node "$n" postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    done
    setup_db "$db"
    url "$db"
}

cmd_stop() {
    local n
    for n in 2 1 0; do devdb "$n" stop; done
}

cmd_status() {
    local n status=0
    for n in 0 1 2; do
        printf '%s: ' "${NODES[$n]}"
        devdb "$n" status || status=1
    done
    return $status
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) url ;;
    status) cmd_status ;;
    port)
        [[ ${2:-} =~ ^[012]$ ]] || die "port takes 0, 1 or 2"
        node_port "$2"
        ;;
    template) cmd_recreate feddi_template ;;
    recreate) cmd_recreate "${2:-}" ;;
    restart)
        # All down before any comes back: a node left running would keep
        # its maintenance daemon's sessions to the others' databases.
        for n in 2 1 0; do devdb "$n" stop; done
        for n in 0 1 2; do devdb "$n" start >/dev/null; done
        ;;
    stop-worker)
        [[ ${2:-} =~ ^[12]$ ]] || die "stop-worker takes 1 or 2"
        devdb "$2" stop
        ;;
    start-worker)
        [[ ${2:-} =~ ^[12]$ ]] || die "start-worker takes 1 or 2"
        devdb "$2" start >/dev/null
        ;;
    -h | --help | help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" ;;
    *)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
        exit 2
        ;;
esac
