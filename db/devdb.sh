#!/usr/bin/env bash
# db/devdb.sh — a private PostgreSQL cluster for development and tests.
#
# Usage: db/devdb.sh start|stop|reset|url|status|bindir
#
#   start   start the cluster (or reuse it if it already runs), create the
#           database "feddi" if missing; the last line on stdout is the URL
#   stop    stop it (fast mode); exit 0 if it was not running
#   reset   stop, delete all its data, start again
#   url     print the connection URL
#   status  exit 0 if it runs, 1 if not
#   bindir  print the folder of the server binaries (pgbench lives there too)
#
# Environment:
#   FEDDI_PG_PORT=54329  TCP port on 127.0.0.1 (the only address it listens on)
#   FEDDI_PG_FAST=1      tests only: fsync=off, synchronous_commit=off,
#                        full_page_writes=off (data may be lost on a crash)
#   FEDDI_PG_DIR=/abs    where the cluster lives (default: <repo>/.data/pg)
#   FEDDI_PG_PRELOAD=lib libraries to preload before pg_stat_statements
#                        (db/citus.sh: citus, which must come first)
#   FEDDI_PG_OPTS='-c k=v' more server settings (db/citus.sh: 2PC, triggers)
#
# Layout under .data/pg (git-ignored): data/ (PGDATA), run/ (unix socket),
# log/postgres.log. The server preloads pg_stat_statements, so that `make bench`
# can count the statements each request runs. Authentication is "trust" for
# the user postgres: it only listens on 127.0.0.1 and on its own socket folder.
#
# PostgreSQL refuses to run as root; when run as root this script runs the
# server binaries as the "postgres" OS user (created if missing).
set -euo pipefail

readonly DB_NAME=feddi
readonly DB_USER=postgres
readonly PG_OS_USER=postgres

say() { printf 'devdb: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PORT="${FEDDI_PG_PORT:-54329}"
if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
    die "FEDDI_PG_PORT must be a TCP port number (1-65535), got '$PORT'"
fi
PG_ROOT="${FEDDI_PG_DIR:-$REPO_ROOT/.data/pg}"
[[ $PG_ROOT == /* ]] || die "FEDDI_PG_DIR must be an absolute path, got '$PG_ROOT'"
PG_ROOT="${PG_ROOT%/}"
# pg_ctl passes paths through /bin/sh: refuse characters that would need quoting there.
case "$PG_ROOT" in
    *[\'\"\$\`\\]*) die "the cluster path must not contain quotes, \$, \` or \\: $PG_ROOT" ;;
esac
DATA_DIR="$PG_ROOT/data"
RUN_DIR="$PG_ROOT/run"
LOG_DIR="$PG_ROOT/log"
LOG_FILE="$LOG_DIR/postgres.log"
LOCK_FILE="$PG_ROOT.lock" # beside the cluster folder, so that reset can delete the folder
# A unix socket path is limited to 107 bytes; a deep checkout would exceed it,
# so then the socket goes to a short private folder under /tmp instead.
SOCK_DIR="$RUN_DIR"
if ((${#RUN_DIR} + ${#PORT} + 11 > 100)); then
    SOCK_DIR="/tmp/feddi-pg-$(id -u)-$(printf '%s' "$PG_ROOT" | cksum | cut -d' ' -f1)"
fi

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

BINDIR=""
PSQL=""
CREATEDB=""

url() { printf 'postgres://%s@127.0.0.1:%s/%s?sslmode=disable\n' "$DB_USER" "$PORT" "$DB_NAME"; }

# as_pg CMD...: run a server binary as the user that may own the cluster.
# fd 9 (our lock) is closed so that a started postmaster does not inherit it.
as_pg() {
    if ((IS_ROOT)); then
        (cd / && runuser -u "$PG_OS_USER" -- "$@" 9>&-)
    else
        "$@" 9>&-
    fi
}

LOCKED=0
lock() {
    ((LOCKED)) && return 0
    command -v flock >/dev/null 2>&1 || return 0
    mkdir -p "$(dirname "$LOCK_FILE")"
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "another devdb.sh is still busy with $PG_ROOT (lock $LOCK_FILE)"
    LOCKED=1
}

# ---------------------------------------------------------------- binaries

search_bindir() {
    local d cand
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n $d && -x $d/initdb ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    cand=""
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb ]] && cand+="$d"$'\n'
    done
    cand="$(printf '%s' "$cand" | sort -V | tail -n 1)"
    if [[ -n $cand ]]; then
        printf '%s\n' "$cand"
        return 0
    fi
    if d="$(command -v initdb 2>/dev/null)"; then
        # Follow a symlink (e.g. /usr/local/bin/initdb -> .../15/bin/initdb) to find pg_ctl beside it.
        d="$(readlink -f "$d" 2>/dev/null || printf '%s' "$d")"
        printf '%s\n' "$(dirname "$d")"
        return 0
    fi
    return 1
}

install_postgres() {
    say "PostgreSQL server binaries not found; installing the Debian package 'postgresql' ..."
    apt-get update -qq >&2 </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 </dev/null
}

find_binaries() {
    local may_install="${1:-install}" b
    if ! BINDIR="$(search_bindir)"; then
        [[ $may_install == install ]] || return 1
        if ((IS_ROOT)) && command -v apt-get >/dev/null 2>&1; then
            install_postgres
            BINDIR="$(search_bindir)" || die "installed 'postgresql' but still found no initdb"
        else
            cat >&2 <<'EOF'
devdb: PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found.
  Debian/Ubuntu:  sudo apt-get install postgresql
  other systems:  install the PostgreSQL 14+ server binaries (initdb, pg_ctl, postgres)
                  and put their folder on PATH (or make pg_config --bindir point to it)
EOF
            exit 1
        fi
    fi
    for b in initdb pg_ctl postgres; do
        [[ -x $BINDIR/$b ]] || die "found $BINDIR/initdb but no $BINDIR/$b: the PostgreSQL server install looks incomplete"
    done
    PSQL="$BINDIR/psql"
    [[ -x $PSQL ]] || PSQL="$(command -v psql || true)"
    CREATEDB="$BINDIR/createdb"
    [[ -x $CREATEDB ]] || CREATEDB="$(command -v createdb || true)"
    [[ -n $PSQL && -n $CREATEDB ]] || die "psql/createdb not found (Debian/Ubuntu: sudo apt-get install postgresql-client)"
}

server_major() { "$BINDIR/postgres" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/'; }

# ---------------------------------------------------------------- state

real_data_dir() { (cd "$DATA_DIR" 2>/dev/null && pwd -P); }

# The postmaster's pid, read from postmaster.pid ("" if none).
pidfile_pid() {
    local pid=""
    [[ -f $DATA_DIR/postmaster.pid ]] && pid="$(head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)"
    [[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

pidfile_port() { sed -n 4p "$DATA_DIR/postmaster.pid" 2>/dev/null || true; }

# Is the process PID a server of OUR data dir? (Its working directory is the data dir.)
is_our_server_process() {
    local pid="$1" rd
    if [[ -d /proc/self ]]; then
        rd="$(real_data_dir)" || return 1
        [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null || true)" == "$rd" ]]
    else
        kill -0 "$pid" 2>/dev/null
    fi
}

is_running() {
    local pid
    pid="$(pidfile_pid)"
    [[ -n $pid ]] && is_our_server_process "$pid"
}

# Pids of any process still working in our data dir (children of a killed postmaster).
leftover_pids() {
    local rd p
    [[ -d /proc/self ]] || return 0
    rd="$(real_data_dir)" || return 0
    for p in /proc/[0-9]*; do
        [[ "$(readlink "$p/cwd" 2>/dev/null || true)" == "$rd" ]] && printf '%s ' "${p#/proc/}"
    done
    return 0
}

# After a crash or kill -9: wait for orphaned backends to exit, then remove the
# stale lock files (its pid may meanwhile belong to an unrelated process).
clear_stale_state() {
    local left i
    [[ -d $DATA_DIR ]] || return 0
    for ((i = 0; i < 100; i++)); do
        left="$(leftover_pids)"
        [[ -z $left ]] && break
        sleep 0.1
    done
    [[ -z $left ]] || die "processes of an earlier server still use $DATA_DIR (pids: $left); stop them first"
    if [[ -e $DATA_DIR/postmaster.pid ]]; then
        say "removing a stale postmaster.pid (the previous server did not shut down cleanly)"
        rm -f "$DATA_DIR/postmaster.pid"
    fi
    rm -f "$SOCK_DIR/.s.PGSQL.$PORT" "$SOCK_DIR/.s.PGSQL.$PORT.lock"
}

port_in_use() {
    local probe="exec 3<>/dev/tcp/127.0.0.1/$PORT"
    if command -v timeout >/dev/null 2>&1; then
        timeout 3 bash -c "$probe" 2>/dev/null
    else
        bash -c "$probe" 2>/dev/null
    fi
}

check_port_free() {
    port_in_use || return 0
    say "another process already listens on 127.0.0.1:$PORT (it is not this repo's cluster):"
    if command -v ss >/dev/null 2>&1; then
        ss -ltnpH "sport = :$PORT" 2>/dev/null | sed 's/^/devdb:   /' >&2 || true
    fi
    die "pick a free port, e.g.  FEDDI_PG_PORT=54339 $0 start"
}

# ---------------------------------------------------------------- folders

ensure_os_user() {
    id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
    say "creating the system user '$PG_OS_USER' (PostgreSQL refuses to run as root)"
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin "$PG_OS_USER"
}

# The postgres user must be able to reach PG_ROOT: check every parent folder.
check_traversable() {
    local p bad
    local -a dirs=()
    p="$(dirname "$PG_ROOT")"
    while [[ $p != / ]]; do
        dirs=("$p" "${dirs[@]}")
        p="$(dirname "$p")"
    done
    ((${#dirs[@]})) || return 0
    # shellcheck disable=SC2016 # expanded by the inner sh
    bad="$(as_pg sh -c 'for d do [ -x "$d" ] || { printf "%s\n" "$d"; exit 0; }; done' sh "${dirs[@]}")" || true
    [[ -z $bad ]] && return 0
    cat >&2 <<EOF
devdb: the '$PG_OS_USER' OS user cannot enter $bad ($(stat -c '%A %U:%G' "$bad" 2>/dev/null || echo '?')).
  PostgreSQL refuses to run as root, so this script runs it as '$PG_OS_USER', which
  needs search (x) permission on every folder above $PG_ROOT.
  Either allow it yourself:   chmod o+x $bad
  or keep the cluster elsewhere:   FEDDI_PG_DIR=/var/tmp/feddi-pg $0 start
EOF
    exit 1
}

prepare_dirs() {
    local parent
    parent="$(dirname "$PG_ROOT")"
    if [[ ! -d $parent ]]; then
        mkdir -p "$parent"
        chmod 0755 "$parent"
    fi
    if ((IS_ROOT)); then
        ensure_os_user
        check_traversable
        if [[ -d $DATA_DIR && "$(stat -c %U "$DATA_DIR")" != "$PG_OS_USER" ]]; then
            say "handing $PG_ROOT over to the '$PG_OS_USER' user"
            chown -R "$PG_OS_USER:$PG_OS_USER" "$PG_ROOT"
        fi
        install -d -o "$PG_OS_USER" -g "$PG_OS_USER" -m 0700 "$PG_ROOT" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR" "$SOCK_DIR"
    else
        if [[ -e $DATA_DIR && ! -O $DATA_DIR ]]; then
            die "$DATA_DIR belongs to another user (created as root?). Remove it (sudo rm -rf $PG_ROOT) and start again."
        fi
        mkdir -p "$PG_ROOT" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR" "$SOCK_DIR"
        chmod 0700 "$PG_ROOT" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR" "$SOCK_DIR"
    fi
}

# ---------------------------------------------------------------- cluster

pick_locale() {
    if command -v locale >/dev/null 2>&1 && locale -a 2>/dev/null | grep -iE '^c\.utf-?8$' >/dev/null; then
        echo C.UTF-8
    else
        echo C
    fi
}

init_cluster() {
    local have want loc
    want="$(server_major)"
    if [[ -f $DATA_DIR/PG_VERSION ]]; then
        have="$(cat "$DATA_DIR/PG_VERSION")"
        [[ $have == "$want" ]] && return 0
        die "$DATA_DIR was made by PostgreSQL $have but the server found is $want ($BINDIR). Run: $0 reset  (deletes the dev data)"
    fi
    # An earlier initdb that failed half-way leaves a non-empty folder that initdb refuses.
    if [[ -n "$(ls -A "$DATA_DIR" 2>/dev/null)" ]]; then
        rm -rf "${DATA_DIR:?}"/* "${DATA_DIR:?}"/.[!.]* 2>/dev/null || true
    fi
    loc="$(pick_locale)"
    if ! as_pg "$BINDIR/initdb" -D "$DATA_DIR" -A trust -U "$DB_USER" --no-sync -E UTF8 --locale="$loc" \
        >"$LOG_DIR/initdb.log" 2>&1; then
        cat "$LOG_DIR/initdb.log" >&2
        die "initdb failed (log above, also in $LOG_DIR/initdb.log)"
    fi
}

start_server() {
    local opts="-c listen_addresses=127.0.0.1 -p $PORT -k '$SOCK_DIR' -c max_connections=200 -c shared_buffers=128MB"
    opts+=" -c shared_preload_libraries=${FEDDI_PG_PRELOAD:+$FEDDI_PG_PRELOAD,}pg_stat_statements"
    opts+="${FEDDI_PG_OPTS:+ $FEDDI_PG_OPTS}"
    case "${FEDDI_PG_FAST:-}" in
        1 | true | yes) opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
    esac
    if ! as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" -w -t 30 -l "$LOG_FILE" -o "$opts" start \
        >"$LOG_DIR/pg_ctl.out" 2>&1; then
        cat "$LOG_DIR/pg_ctl.out" >&2
        say "last lines of $LOG_FILE:"
        tail -n 30 "$LOG_FILE" >&2 2>/dev/null || true
        die "PostgreSQL did not start"
    fi
}

ensure_db() {
    local found
    found="$("$PSQL" -X -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")" ||
        die "cannot connect to 127.0.0.1:$PORT as $DB_USER (see $LOG_FILE)"
    [[ $found == 1 ]] && return 0
    "$CREATEDB" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" "$DB_NAME"
}

# ---------------------------------------------------------------- commands

cmd_start() {
    local running_port
    lock
    if is_running; then
        running_port="$(pidfile_port)"
        if [[ $running_port != "$PORT" ]]; then
            die "the cluster in $DATA_DIR already runs on port $running_port, not $PORT: run '$0 stop' first, or use FEDDI_PG_PORT=$running_port"
        fi
        find_binaries
        ensure_db
        url
        return 0
    fi
    find_binaries
    prepare_dirs
    check_port_free
    clear_stale_state
    init_cluster
    start_server
    ensure_db
    url
}

cmd_stop() {
    local pid i
    is_running || return 0
    lock
    is_running || return 0
    pid="$(pidfile_pid)"
    if find_binaries noinstall; then
        as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" -m fast -w -t 60 stop >/dev/null ||
            die "pg_ctl stop failed (see $LOG_FILE)"
    else
        kill -INT "$pid" # what pg_ctl -m fast sends
        for ((i = 0; i < 600; i++)); do
            is_running || return 0
            sleep 0.1
        done
        die "the server (pid $pid) did not stop within 60 s"
    fi
}

cmd_reset() {
    lock
    cmd_stop
    clear_stale_state
    rm -rf "${PG_ROOT:?}"
    if [[ $SOCK_DIR != "$RUN_DIR" ]]; then rm -rf "${SOCK_DIR:?}"; fi
    cmd_start
}

cmd_status() {
    if is_running; then
        echo "running: pid $(pidfile_pid), 127.0.0.1:$(pidfile_port), data $DATA_DIR"
        return 0
    fi
    echo "not running (data $DATA_DIR)"
    return 1
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    reset) cmd_reset ;;
    url) url ;;
    status) cmd_status ;;
    bindir)
        find_binaries noinstall || die "PostgreSQL server binaries not found (run: $0 start)"
        printf '%s\n' "$BINDIR"
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
