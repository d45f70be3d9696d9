#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the function tests and the loader benchmark.
#
#   scripts/postgres.sh start   install what is missing, start the cluster, print the env vars
#   scripts/postgres.sh env     print the env vars of the running cluster (eval-able)
#   scripts/postgres.sh stop    stop the cluster (its data stays for the next start)
#
# The cluster lives under .services/postgres/ (gitignored; under /tmp when run as root, see
# below), listens on 127.0.0.1 only, on a free high port, and is owned by the `postgres` user
# when run as root (initdb refuses to run as root).
# Durability is switched off: nothing in it outlives a test run, and fsync would only slow tests.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
service_dir="$repo_root/.services/postgres"
# Under root the cluster runs as `postgres`, which may not be able to enter the checkout (one
# below /root, say): keep it in a per-checkout folder under /tmp instead.
if [[ $(id -u) -eq 0 ]]; then
    service_dir="${TMPDIR:-/tmp}/reporting-postgres-$(printf '%s' "$repo_root" | md5sum | cut -c1-12)"
fi
data_dir="$service_dir/data"
socket_dir="$service_dir/run"
log_file="$service_dir/postgres.log"
port_file="$service_dir/port"
env_file="$service_dir/env"

test_role=reporting
test_password=reporting
test_database=reporting_test

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
# shellcheck source=scripts/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"

pg_bindir() {
    # Debian installs each major version side by side; take the newest.
    find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1
}

psqlodbc_installed() {
    odbcinst -q -d -n "PostgreSQL Unicode" >/dev/null 2>&1
}

ensure_packages() {
    if [[ -n "$(pg_bindir)" ]] && command -v psql >/dev/null && psqlodbc_installed; then
        return
    fi
    install_debian_packages "PostgreSQL, unixODBC or psqlODBC is" postgresql unixodbc odbc-postgresql
}

# Runs a command as the cluster's owner: `postgres` under root, the caller otherwise.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        # From /: the caller's directory may be closed to `postgres`.
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'EOF'
import socket

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    print(probe.getsockname()[1])
EOF
}

is_running() {
    [[ -f "$data_dir/PG_VERSION" ]] && as_owner "$(pg_bindir)/pg_ctl" -D "$data_dir" status >/dev/null 2>&1
}

write_env() {
    local port
    port=$(cat "$port_file")
    cat >"$env_file" <<EOF
export REPORTING_TEST_POSTGRES='Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=$port;Database=$test_database;Uid=$test_role;Pwd=$test_password;'
export REPORTING_TEST_POSTGRES_URL='postgresql://$test_role:$test_password@127.0.0.1:$port/$test_database'
EOF
}

init_cluster() {
    local bindir=$1
    mkdir -p "$service_dir"
    rm -rf "$data_dir" "$socket_dir"
    mkdir -p "$data_dir" "$socket_dir"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres:postgres "$service_dir"
    fi
    as_owner "$bindir/initdb" -D "$data_dir" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$data_dir/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$socket_dir'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

create_test_role() {
    local bindir=$1 port=$2
    as_owner "$bindir/psql" -h "$socket_dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<EOF
SELECT 'CREATE ROLE $test_role LOGIN CREATEDB'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$test_role') \gexec
ALTER ROLE $test_role PASSWORD '$test_password';
SELECT 'CREATE DATABASE $test_database OWNER $test_role'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$test_database') \gexec
EOF
}

start() {
    ensure_packages
    local bindir
    bindir=$(pg_bindir)
    if is_running; then
        log "already running on port $(cat "$port_file")"
    else
        [[ -f "$data_dir/PG_VERSION" ]] || init_cluster "$bindir"
        # A new port on every start: the previous one may have been taken since.
        free_port >"$port_file"
        as_owner "$bindir/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 \
            -o "-p $(cat "$port_file")" start >/dev/null
        log "started on port $(cat "$port_file")"
    fi
    create_test_role "$bindir" "$(cat "$port_file")"
    write_env
    cat "$env_file"
}

stop() {
    if is_running; then
        as_owner "$(pg_bindir)/pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null
        log "stopped"
    else
        log "not running"
    fi
}

print_env() {
    if ! is_running; then
        log "not running: scripts/postgres.sh start"
        exit 1
    fi
    cat "$env_file"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) print_env ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
