#!/usr/bin/env bash
# db/pgbouncer.sh — PgBouncer in transaction pooling mode in front of the
# private cluster (db/devdb.sh), as a replicated deployment runs it.
#
# Usage: db/pgbouncer.sh start|stop|url|status
#
#   start   start it (or reload its settings if it already runs); the last
#           line on stdout is the URL of the feddi database through it
#   stop    stop it (immediate shutdown); exit 0 if it was not running
#   url     print the URL of the feddi database through it
#   status  exit 0 if it runs, 1 if not
#
# Environment:
#   FEDDI_PG_PORT=54329              the cluster it forwards to (db/devdb.sh)
#   FEDDI_PGBOUNCER_PORT=PG_PORT-30000 its TCP port on 127.0.0.1 (the only
#                                    address it listens on; no unix socket)
#   FEDDI_PGBOUNCER_POOL_SIZE=8      server connections per database: small,
#                                    so that the transactions of different
#                                    clients share server connections
#   FEDDI_PGBOUNCER_DIR=/abs         where its files live (default
#                                    <repo>/.data/pgbouncer, or beside
#                                    FEDDI_PG_DIR when that is set)
#
# Every database name is forwarded as is (the "*" entry), so the per-test
# databases of make test-pgbouncer go through it too. Authentication is
# "trust", like the cluster's: both listen on 127.0.0.1 only. The service
# must run with FEDDI_DATABASE_POOLER=pgbouncer behind it (see
# docs/scale-out.md); migrations go to the cluster directly.
#
# PgBouncer refuses to run as root; as root this script runs it as the
# "postgres" OS user (db/devdb.sh creates it), and installs the Debian
# package "pgbouncer" when it is missing.
set -euo pipefail

readonly DB_NAME=feddi
readonly DB_USER=postgres
readonly OS_USER=postgres

say() { printf 'pgbouncer.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PG_PORT="${FEDDI_PG_PORT:-54329}"
[[ $PG_PORT =~ ^[0-9]+$ ]] || die "FEDDI_PG_PORT must be a TCP port number, got '$PG_PORT'"
# Below Linux's ephemeral port range (32768-60999) when the cluster's port
# allows: PgBouncer starts late in a CI run, when any port of that range may
# be the local end of one of the run's outgoing connections.
if ((PG_PORT > 31024)); then default_port=$((PG_PORT - 30000)); else default_port=$((PG_PORT + 1000)); fi
PORT="${FEDDI_PGBOUNCER_PORT:-$default_port}"
if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
    die "FEDDI_PGBOUNCER_PORT must be a TCP port number (1-65535), got '$PORT'"
fi
POOL_SIZE="${FEDDI_PGBOUNCER_POOL_SIZE:-8}"
[[ $POOL_SIZE =~ ^[1-9][0-9]*$ ]] || die "FEDDI_PGBOUNCER_POOL_SIZE must be a positive number, got '$POOL_SIZE'"
if [[ -n ${FEDDI_PGBOUNCER_DIR:-} ]]; then
    ROOT="${FEDDI_PGBOUNCER_DIR%/}"
elif [[ -n ${FEDDI_PG_DIR:-} ]]; then
    ROOT="${FEDDI_PG_DIR%/}-pgbouncer"
else
    ROOT="$REPO_ROOT/.data/pgbouncer"
fi
[[ $ROOT == /* ]] || die "FEDDI_PGBOUNCER_DIR must be an absolute path, got '$ROOT'"
case "$ROOT" in
    *[\'\"\$\`\\\ ]*) die "the PgBouncer folder must not contain quotes, spaces, \$, \` or \\: $ROOT" ;;
esac
CONF="$ROOT/pgbouncer.ini"
USERS="$ROOT/userlist.txt"
PIDFILE="$ROOT/pgbouncer.pid"
LOG="$ROOT/pgbouncer.log"

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

url() { printf 'postgres://%s@127.0.0.1:%s/%s?sslmode=disable\n' "$DB_USER" "$PORT" "$DB_NAME"; }

as_user() {
    if ((IS_ROOT)); then
        (cd / && runuser -u "$OS_USER" -- "$@")
    else
        "$@"
    fi
}

find_pgbouncer() {
    local b
    for b in "$(command -v pgbouncer 2>/dev/null || true)" /usr/sbin/pgbouncer /usr/bin/pgbouncer; do
        if [[ -n $b && -x $b ]]; then
            printf '%s\n' "$b"
            return 0
        fi
    done
    return 1
}

ensure_pgbouncer() {
    if BIN="$(find_pgbouncer)"; then return 0; fi
    if ((IS_ROOT)) && command -v apt-get >/dev/null 2>&1; then
        say "pgbouncer not found; installing the Debian package 'pgbouncer' ..."
        apt-get update -qq >&2 </dev/null
        # The package's own service is not wanted: policy-rc.d or not, we
        # only use the binary.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >&2 </dev/null
        BIN="$(find_pgbouncer)" || die "installed 'pgbouncer' but found no binary"
        return 0
    fi
    cat >&2 <<'EOF'
pgbouncer.sh: PgBouncer was not found.
  Debian/Ubuntu:  sudo apt-get install pgbouncer
  other systems:  install PgBouncer 1.18 or later and put it on PATH
EOF
    exit 1
}

pid() {
    local p=""
    [[ -f $PIDFILE ]] && p="$(head -n 1 "$PIDFILE" 2>/dev/null || true)"
    [[ $p =~ ^[0-9]+$ ]] && printf '%s\n' "$p"
    return 0
}

is_running() {
    local p
    p="$(pid)"
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null && [[ "$(cat "/proc/$p/comm" 2>/dev/null || echo pgbouncer)" == pgbouncer ]]
}

port_in_use() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; }

write_config() {
    if ((IS_ROOT)); then
        install -d -o "$OS_USER" -g "$OS_USER" -m 0700 "$ROOT"
    else
        mkdir -p "$ROOT" && chmod 0700 "$ROOT"
    fi
    cat >"$CONF.new" <<EOF
; Written by db/pgbouncer.sh; rewritten on every start.
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
pool_mode = transaction
default_pool_size = $POOL_SIZE
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 4000
; The tests drop their databases: let server connections to them go soon.
server_idle_timeout = 30
server_reset_query =
ignore_startup_parameters = extra_float_digits
auth_type = trust
auth_file = $USERS
admin_users = $DB_USER
stats_users = $DB_USER
logfile = $LOG
pidfile = $PIDFILE
log_connections = 0
log_disconnections = 0
EOF
    # PgBouncer's trust still wants each user listed: postgres, and the
    # role the per-test databases belong to (pgtestdb's, internal/platform/testdb).
    printf '"%s" ""\n' "$DB_USER" pgtdbuser >"$USERS.new"
    mv -f "$CONF.new" "$CONF"
    mv -f "$USERS.new" "$USERS"
    if ((IS_ROOT)); then chown "$OS_USER:$OS_USER" "$CONF" "$USERS"; fi
}

cmd_start() {
    local i
    ensure_pgbouncer
    if ((IS_ROOT)) && ! id -u "$OS_USER" >/dev/null 2>&1; then
        die "the '$OS_USER' OS user does not exist: start the cluster first (bash db/devdb.sh start)"
    fi
    write_config
    if is_running; then
        kill -HUP "$(pid)" # reload pgbouncer.ini
        url
        return 0
    fi
    if port_in_use; then
        die "another process already listens on 127.0.0.1:$PORT: pick a free port, e.g. FEDDI_PGBOUNCER_PORT=$((PORT + 1)) $0 start"
    fi
    rm -f "$PIDFILE"
    # A client and a server socket per connection: raise the soft limit of
    # open files towards the hard one (4000 clients need ~4000 files).
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    if ! as_user "$BIN" -d -q "$CONF" >"$ROOT/start.out" 2>&1; then
        cat "$ROOT/start.out" >&2
        tail -n 20 "$LOG" >&2 2>/dev/null || true
        die "pgbouncer did not start"
    fi
    for ((i = 0; i < 100; i++)); do
        port_in_use && is_running && {
            url
            return 0
        }
        sleep 0.1
    done
    tail -n 20 "$LOG" >&2 2>/dev/null || true
    die "pgbouncer did not come up on 127.0.0.1:$PORT (log: $LOG)"
}

cmd_stop() {
    local p i
    is_running || return 0
    p="$(pid)"
    kill -TERM "$p" # immediate shutdown: the tests and the cluster are done with it
    for ((i = 0; i < 100; i++)); do
        kill -0 "$p" 2>/dev/null || return 0
        sleep 0.1
    done
    die "pgbouncer (pid $p) did not stop within 10 s"
}

cmd_status() {
    if is_running; then
        echo "running: pid $(pid), 127.0.0.1:$PORT -> 127.0.0.1:$PG_PORT, pool size $POOL_SIZE, files $ROOT"
        return 0
    fi
    echo "not running (files $ROOT)"
    return 1
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) url ;;
    status) cmd_status ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
