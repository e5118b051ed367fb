#!/usr/bin/env bash
# openapi/breaking.sh — fail when a document breaks an API version already released.
#
# Usage: openapi/breaking.sh [REVISION]
#
# Compares every released document, openapi/released/<api_version>.yaml, with
# REVISION (default: openapi/openapi.yaml, the document the service serves)
# using oasdiff, pinned in go.mod's tool section, and exits 1 when oasdiff finds
# a change of level ERR (a breaking change) against any of them. Warnings and
# infos are printed but pass. `make verify` runs it without arguments;
# openapi/breaking_test.go runs this same file on copies it breaks on purpose,
# so the command and its flags live here and nowhere else.
#
# The flags:
#   --fail-on ERR                 exit 1 on a breaking change (oasdiff's ERR level)
#   --color never                 plain text in logs and in the test's assertions
#   --allow-external-refs=false   our documents are self-contained: a $ref to
#                                 another file or a URL is an error, never a fetch
#   --err-ignore                  openapi/released/accepted-breaks.txt: the
#                                 corrections of the document made on purpose,
#                                 one per line with its reason
# oasdiff reads our OpenAPI 3.1 documents as they are (3.1 type lists with
# "null", const, examples, $ref with siblings): no flag or rewrite is needed.
#
# Environment: GO (default go), the go command that runs `go tool oasdiff`.
set -euo pipefail

go_cmd="${GO:-go}"
revision="openapi/openapi.yaml"
if [[ $# -gt 0 ]]; then
    revision="$(realpath "$1")"
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

shopt -s nullglob
released=(openapi/released/*.yaml)
if [[ ${#released[@]} -eq 0 ]]; then
    echo "breaking: no released document in openapi/released/" >&2
    exit 1
fi

status=0
for base in "${released[@]}"; do
    echo "breaking: $base (released) against $revision"
    "$go_cmd" tool oasdiff breaking --fail-on ERR --color never --allow-external-refs=false \
        --err-ignore openapi/released/accepted-breaks.txt "$base" "$revision" || status=$?
done
exit "$status"
