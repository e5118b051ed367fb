#!/usr/bin/env bash
# scripts/chromium.sh — find headless Chromium for the browser test of
# GET /docs (make test-docs-ui), installing Debian's 'chromium' when it is
# missing and we are root, as db/devdb.sh does for PostgreSQL.
#
# Usage: scripts/chromium.sh path
#
#   path   print the Chromium binary's path (installing it first when missing)
#
# Environment:
#   FEDDI_CHROMIUM=/abs/path   use this binary instead of searching PATH
set -euo pipefail

say() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

find_chromium() {
    local b
    if [[ -n ${FEDDI_CHROMIUM:-} ]]; then
        [[ -x $FEDDI_CHROMIUM ]] || die "FEDDI_CHROMIUM=$FEDDI_CHROMIUM is not an executable"
        printf '%s\n' "$FEDDI_CHROMIUM"
        return 0
    fi
    for b in chromium chromium-browser google-chrome-stable google-chrome; do
        if command -v "$b" >/dev/null 2>&1; then
            command -v "$b"
            return 0
        fi
    done
    return 1
}

install_chromium() {
    say "Chromium not found; installing the Debian package 'chromium' (a few minutes) ..."
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >&2 </dev/null
}

cmd_path() {
    if find_chromium; then
        return 0
    fi
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        install_chromium
        find_chromium || die "installed 'chromium' but still found no chromium on PATH"
        return 0
    fi
    cat >&2 <<'EOT'
chromium.sh: no Chromium was found (tried chromium, chromium-browser, google-chrome).
  Debian/Ubuntu:  sudo apt-get install chromium
  other systems:  install Chromium or Chrome and put it on PATH,
                  or point FEDDI_CHROMIUM at its binary
EOT
    exit 1
}

case "${1:-}" in
    path) cmd_path ;;
    -h | --help | help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" ;;
    *)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
        exit 2
        ;;
esac
