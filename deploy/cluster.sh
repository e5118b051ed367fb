#!/usr/bin/env bash
# deploy/cluster.sh — the service as a replicated deployment runs it, all on
# this machine: the private cluster (db/devdb.sh), PgBouncer in transaction
# mode (db/pgbouncer.sh), three `feddi serve` replicas behind it and HAProxy
# in front of them.
#
# Usage: deploy/cluster.sh start|stop|status|url
#        deploy/cluster.sh replica N start|stop|kill|pid
#
#   start    start everything (reusing what already runs), migrate once
#            through the direct URL, then the replicas, then HAProxy; the
#            last line on stdout is HAProxy's URL
#   stop     stop HAProxy, the replicas (SIGTERM: they drain) and PgBouncer;
#            the database keeps running (db/devdb.sh stop)
#   status   what runs; exit 1 if something is down
#   url      HAProxy's URL
#   replica N start|stop|kill|pid
#            start replica N (1-3), stop it with SIGTERM, kill it with
#            SIGKILL, or print its pid
#
# Environment:
#   FEDDI_PG_PORT=54329          the private cluster (db/devdb.sh)
#   FEDDI_CLUSTER_PORT=PG_PORT-29000
#                                HAProxy's port on 127.0.0.1; replica N
#                                listens on FEDDI_CLUSTER_PORT+N, its admin
#                                listener on FEDDI_CLUSTER_PORT+100+N
#   FEDDI_CLUSTER_DIR=/abs       pid files, logs and haproxy.cfg (default
#                                <repo>/.data/cluster)
#   FEDDI_BIN=bin/feddi          the binary (built by `make cluster`)
#   FEDDI_*                      passed on to the replicas (FEDDI_KEK, the
#                                sweep intervals, the limits, ...)
#
# The replicas run with FEDDI_DATABASE_POOLER=pgbouncer (docs/scale-out.md)
# in the sandbox environment, unless FEDDI_ENV says otherwise. HAProxy
# balances round robin over the replicas that pass GET /health, retries a
# request that met a dead or dying replica on another one (every mutating
# call carries an Idempotency-Key, so a retry is a replay), and answers its
# own errors (no replica left, a timeout) with the API's typed envelope,
# code service_unavailable, never its HTML pages. As root the script
# installs the Debian package "haproxy" when it is missing.
set -euo pipefail

readonly REPLICAS=3

say() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO_ROOT"
PG_PORT="${FEDDI_PG_PORT:-54329}"
[[ $PG_PORT =~ ^[0-9]+$ ]] || die "FEDDI_PG_PORT must be a TCP port number, got '$PG_PORT'"
# Below Linux's ephemeral port range (32768-60999) when the cluster's port
# allows, as for PgBouncer (db/pgbouncer.sh): HAProxy and the replicas bind
# late in a CI run, when any port of that range may be the local end of an
# outgoing connection.
if ((PG_PORT > 31024)); then default_port=$((PG_PORT - 29000)); else default_port=$((PG_PORT + 2000)); fi
PORT="${FEDDI_CLUSTER_PORT:-$default_port}"
if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT + REPLICAS > 65535)); then
    die "FEDDI_CLUSTER_PORT must be a TCP port number, got '$PORT'"
fi
DIR="${FEDDI_CLUSTER_DIR:-$REPO_ROOT/.data/cluster}"
DIR="${DIR%/}"
[[ $DIR == /* ]] || die "FEDDI_CLUSTER_DIR must be an absolute path, got '$DIR'"
BIN="${FEDDI_BIN:-$REPO_ROOT/bin/feddi}"

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

url() { printf 'http://127.0.0.1:%s\n' "$PORT"; }
replica_port() { printf '%s\n' "$((PORT + $1))"; }
# Each replica's admin listener (/metrics, /readyz): FEDDI_CLUSTER_PORT+100+N.
admin_port() { printf '%s\n' "$((PORT + 100 + $1))"; }

pid_of() {
    local f="$1" p=""
    [[ -f $f ]] && p="$(head -n 1 "$f" 2>/dev/null || true)"
    [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && printf '%s\n' "$p"
    return 0
}

port_in_use() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# healthy PORT: GET /health answers 200 (bash's /dev/tcp: no curl needed).
healthy() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && head -n 1 <&3 | grep -q " 200 "' _ "$1" 2>/dev/null
}

await_health() {
    local port="$1" pid="$2" i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        if healthy "$port"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

ensure_haproxy() {
    command -v haproxy >/dev/null 2>&1 && return 0
    if ((IS_ROOT)) && command -v apt-get >/dev/null 2>&1; then
        say "haproxy not found; installing the Debian package 'haproxy' ..."
        apt-get update -qq >&2 </dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >&2 </dev/null
        command -v haproxy >/dev/null 2>&1 && return 0
    fi
    cat >&2 <<'EOF'
cluster.sh: HAProxy was not found.
  Debian/Ubuntu:  sudo apt-get install haproxy
  other systems:  install HAProxy 2.2 or later and put it on PATH
EOF
    exit 1
}

# bouncer_env: the replicas' database settings.
bouncer_env() {
    printf 'DATABASE_URL=%s\n' "$(bash db/pgbouncer.sh url)"
    printf 'DATABASE_DIRECT_URL=%s\n' "$(bash db/devdb.sh url)"
    printf 'FEDDI_DATABASE_POOLER=pgbouncer\n'
}

replica_start() {
    local n="$1" port pid
    local -a db_env
    port="$(replica_port "$n")"
    if pid="$(pid_of "$DIR/replica-$n.pid")" && [[ -n $pid ]]; then
        return 0
    fi
    port_in_use "$port" && die "127.0.0.1:$port is taken: set FEDDI_CLUSTER_PORT to a free range"
    [[ -x $BIN ]] || die "$BIN is missing: make cluster builds it (go build -o bin/feddi ./cmd/feddi)"
    mkdir -p "$DIR"
    # setsid: a replica is its own process group, so that a signal meant
    # for the caller's group (Ctrl-C in make) does not reach it.
    mapfile -t db_env < <(bouncer_env)
    env "${db_env[@]}" FEDDI_ENV="${FEDDI_ENV:-sandbox}" FEDDI_ADDR="127.0.0.1:$port" \
        FEDDI_ADMIN_ADDR="127.0.0.1:$(admin_port "$n")" \
        setsid "$BIN" serve >>"$DIR/replica-$n.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$DIR/replica-$n.pid"
    await_health "$port" "$pid" || {
        tail -n 20 "$DIR/replica-$n.log" >&2
        die "replica $n (pid $pid) did not become healthy on 127.0.0.1:$port (log: $DIR/replica-$n.log)"
    }
}

replica_signal() {
    local n="$1" sig="$2" pid i
    pid="$(pid_of "$DIR/replica-$n.pid")"
    [[ -n $pid ]] || return 0
    kill -"$sig" "$pid"
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || {
            rm -f "$DIR/replica-$n.pid"
            return 0
        }
        sleep 0.1
    done
    die "replica $n (pid $pid) did not exit within 30 s of SIG$sig"
}

# An error HAProxy answers itself: the API's envelope, code
# service_unavailable, retryable, with a request id of HAProxy's own.
http_error() {
    local status="$1" message="$2"
    printf '    http-error status %s content-type application/json hdr X-Request-Id "%%[unique-id]" lf-string '"'"'{"ok":false,"data":null,"error":{"code":"service_unavailable","message":"%s","retryable":true,"field":null,"details":null},"meta":{"api_version":"2026-06-01","request_id":"%%[unique-id]","idempotency_key":null,"idempotent_replay":false}}'"'"'\n' "$status" "$message"
}

write_haproxy_cfg() {
    local n
    {
        cat <<EOF
# Written by deploy/cluster.sh; rewritten on every start.
global
    maxconn 4000
    pidfile $DIR/haproxy.pid

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 30s
    timeout queue 10s
    # A request that met a replica going away (refused, reset, closed
    # before any answer) is sent again to another one: every mutating
    # call carries an Idempotency-Key, so the replay is safe.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    unique-id-format req_lb_%[uuid]
EOF
        http_error 502 "No replica answered; retry with the same Idempotency-Key."
        http_error 503 "No replica is available; retry with the same Idempotency-Key."
        http_error 504 "No replica answered in time; retry with the same Idempotency-Key."
        cat <<EOF

frontend api
    bind 127.0.0.1:$PORT
    default_backend replicas

backend replicas
    balance roundrobin
    # The check asks whether the replica's process serves: GET /health
    # answers 503 when the database is slow or away, which is no reason to
    # take every replica out at once (HAProxy would then answer 503 itself
    # for all of them). A dead or draining replica refuses connections.
    option httpchk GET /health
    http-check expect rstatus ^(200|503)$
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
EOF
        for ((n = 1; n <= REPLICAS; n++)); do
            printf '    server replica%s 127.0.0.1:%s check\n' "$n" "$(replica_port "$n")"
        done
    } >"$DIR/haproxy.cfg"
}

haproxy_start() {
    local pid
    ensure_haproxy
    write_haproxy_cfg
    haproxy -c -q -f "$DIR/haproxy.cfg" || die "haproxy refuses $DIR/haproxy.cfg"
    if pid="$(pid_of "$DIR/haproxy.pid")" && [[ -n $pid ]]; then
        return 0
    fi
    port_in_use "$PORT" && die "127.0.0.1:$PORT is taken: set FEDDI_CLUSTER_PORT to a free range"
    haproxy -D -f "$DIR/haproxy.cfg" || die "haproxy did not start"
}

cmd_start() {
    local n
    local -a db_env
    mkdir -p "$DIR"
    bash db/devdb.sh start >/dev/null
    bash db/pgbouncer.sh start >/dev/null
    # One migration run, through the direct URL, before any replica starts
    # (a release step, never on every start).
    mapfile -t db_env < <(bouncer_env)
    env "${db_env[@]}" "$BIN" migrate >>"$DIR/migrate.log" 2>&1 || {
        tail -n 20 "$DIR/migrate.log" >&2
        die "feddi migrate failed (log: $DIR/migrate.log)"
    }
    for ((n = 1; n <= REPLICAS; n++)); do replica_start "$n"; done
    haproxy_start
    url
}

cmd_stop() {
    local pid n
    local i
    if pid="$(pid_of "$DIR/haproxy.pid")" && [[ -n $pid ]]; then
        kill -TERM "$pid" || true
        # Wait until its port is free for the next start.
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    for ((n = 1; n <= REPLICAS; n++)); do replica_signal "$n" TERM; done
    bash db/pgbouncer.sh stop
}

cmd_status() {
    local n pid down=0
    for ((n = 1; n <= REPLICAS; n++)); do
        if pid="$(pid_of "$DIR/replica-$n.pid")" && [[ -n $pid ]]; then
            echo "replica $n: pid $pid, 127.0.0.1:$(replica_port "$n") (admin 127.0.0.1:$(admin_port "$n"))"
        else
            echo "replica $n: down"
            down=1
        fi
    done
    if pid="$(pid_of "$DIR/haproxy.pid")" && [[ -n $pid ]]; then
        echo "haproxy: pid $pid, $(url)"
    else
        echo "haproxy: down"
        down=1
    fi
    bash db/pgbouncer.sh status || down=1
    return "$down"
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) url ;;
    replica)
        n="${2:-}"
        [[ $n =~ ^[1-9]$ ]] && ((n <= REPLICAS)) || die "replica number must be 1-$REPLICAS, got '$n'"
        case "${3:-}" in
            start) replica_start "$n" ;;
            stop) replica_signal "$n" TERM ;;
            kill) replica_signal "$n" KILL ;;
            pid) pid_of "$DIR/replica-$n.pid" ;;
            *) die "usage: $0 replica N start|stop|kill|pid" ;;
        esac
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
