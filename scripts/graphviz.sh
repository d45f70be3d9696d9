#!/usr/bin/env bash
# Graphviz's `dot`, which lays out the architecture pictures (`make diagram`, and the test that
# draws one): installed from Debian when missing, as scripts/postgres.sh installs PostgreSQL.
# Not root and missing: says how to install it, and fails.
set -euo pipefail

log() { printf 'graphviz.sh: %s\n' "$*" >&2; }
# shellcheck source=scripts/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"

if command -v dot >/dev/null; then
    exit 0
fi
install_debian_packages "Graphviz is" graphviz
