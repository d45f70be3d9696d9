#!/usr/bin/env bash
# Graphviz's `dot`, which lays out the architecture pictures (`make diagram`, and the test that
# draws one): installed from Debian when missing, as scripts/postgres.sh installs PostgreSQL.
# Not root and missing: says how to install it, and fails.
set -euo pipefail

log() { printf 'graphviz.sh: %s\n' "$*" >&2; }

if command -v dot >/dev/null; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    log "Graphviz is missing: run as root, or apt-get install -y graphviz"
    exit 1
fi
log "installing graphviz"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq graphviz >/dev/null
