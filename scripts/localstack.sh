#!/usr/bin/env bash
# LocalStack on this host, without Docker, for the LocalStack lane of the function and
# end-to-end tests (`make test-localstack`).
#
#   scripts/localstack.sh install      its own Python 3.13 virtualenv with LocalStack's pinned
#                                      runtime requirements, and its Kinesis emulator (npm)
#   scripts/localstack.sh run CMD...   start it, run CMD with REPORTING_EMULATOR=localstack and
#                                      LOCALSTACK_HOST set, then stop it whatever CMD did
#   scripts/localstack.sh start        start it on a free port and print the settings (eval-able)
#   scripts/localstack.sh stop         stop it (its process group)
#
# localstack-core 2026.3.0 is the last open-source release: its pins are vendored in
# scripts/localstack/ (Apache-2.0). Everything lives under .services/localstack/ (gitignored):
# the virtualenv, LocalStack's file system root, its log. It listens on 127.0.0.1 only, with
# telemetry, its DNS server and its certificate download off; nothing persists between starts.
# Offline it serves S3, SQS, SNS, Kinesis (kinesis-mock, from npm), Firehose, SES (v1), KMS,
# STS, IAM, EC2 and Secrets Manager; DynamoDB would download DynamoDB Local and Java, and RDS
# and SES v2 are not in the open-source release: the tests that need them are not applicable.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
localstack_version=2026.3.0
pins="$repo_root/scripts/localstack/requirements-runtime.txt"
service_dir="$repo_root/.services/localstack"
venv="$service_dir/venv"
filesystem="$service_dir/filesystem"
log_file="$service_dir/localstack.log"
pid_file="$service_dir/pid"
port_file="$service_dir/port"
services=s3,sqs,sns,kinesis,firehose,ses,kms,sts,iam,ec2,secretsmanager

log() { printf 'localstack.sh: %s\n' "$*" >&2; }
# shellcheck source=scripts/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"

python313() {
    # python3.13 on PATH (a pyenv shim prints an error instead when 3.13 is not selected),
    # then pyenv's own 3.13 builds, newest first.
    local candidate
    for candidate in python3.13 $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python 2>/dev/null | sort -rV); do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    log "LocalStack $localstack_version needs Python 3.13 (its pins are compiled for it): none on PATH (python3.13) or under pyenv (${PYENV_ROOT:-$HOME/.pyenv}/versions/3.13*)"
    exit 1
}

ensure_node() {
    # LocalStack's Kinesis is kinesis-mock's npm package, run by Node.js.
    if command -v node >/dev/null && command -v npm >/dev/null; then
        return
    fi
    install_debian_packages "Node.js and npm (LocalStack's Kinesis runs on them) are" nodejs npm
}

# What a finished install was made from: a change to the pins or the version installs again.
install_stamp() {
    printf '%s %s\n' "$localstack_version" "$(sha256sum "$pins" | cut -d' ' -f1)"
}

# The runtime's settings on this host (LocalStack reads them from its environment).
runtime_env() {
    local port=$1
    # The sandboxes LocalStack would detect as containers still keep its files here.
    export OVERRIDE_IN_DOCKER=0
    export FILESYSTEM_ROOT="$filesystem"
    export GATEWAY_LISTEN="127.0.0.1:$port"
    # The host and port in the URLs it returns (queue URLs), path-style for queues.
    export LOCALSTACK_HOST="127.0.0.1:$port"
    export SQS_ENDPOINT_STRATEGY=path
    export SERVICES="$services"
    # No telemetry, no DNS server of its own, no download of localstack.cloud's certificate.
    export DISABLE_EVENTS=1
    export DNS_ADDRESS=0
    export SKIP_SSL_CERT_DOWNLOAD=1
}

install() {
    if [[ -f "$venv/.installed" && "$(cat "$venv/.installed")" == "$(install_stamp)" ]]; then
        return
    fi
    ensure_node
    local python
    python=$(python313)
    log "installing localstack-core $localstack_version into .services/localstack/venv ($("$python" --version))"
    rm -rf "$venv"
    mkdir -p "$service_dir"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$pins" "localstack-core[runtime]==$localstack_version"
    log "installing kinesis-mock (npm)"
    (runtime_env 0 && "$venv/bin/python" -m localstack.cli.lpm install kinesis-mock >/dev/null)
    install_stamp >"$venv/.installed"
}

is_running() {
    [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

print_env() {
    cat <<EOF
export REPORTING_EMULATOR=localstack
export LOCALSTACK_HOST=127.0.0.1:$(cat "$port_file")
EOF
}

healthy() {
    # Every service of SERVICES says it is available (or already running).
    "$venv/bin/python" - "$1" "$services" <<'EOF'
import json
import sys
from urllib.request import urlopen

try:
    with urlopen(f"http://127.0.0.1:{sys.argv[1]}/_localstack/health", timeout=2) as response:
        states = json.load(response)["services"]
except (OSError, ValueError, KeyError):
    sys.exit(1)
sys.exit(any(states.get(name) not in ("available", "running") for name in sys.argv[2].split(",")))
EOF
}

start() {
    if [[ ! -f "$venv/.installed" ]]; then
        log "not installed: scripts/localstack.sh install"
        exit 1
    fi
    if is_running; then
        log "already running on port $(cat "$port_file")"
        print_env
        return
    fi
    local port
    port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "$port" >"$port_file"
    # Nothing is kept between runs: every start is an empty AWS.
    rm -rf "$filesystem/tmp" "$filesystem/var/lib/localstack/tmp"
    mkdir -p "$filesystem"
    # In its own session (process group), so that stop ends it and everything it started.
    (
        runtime_env "$port"
        cd "$service_dir"
        exec setsid "$venv/bin/python" -m localstack.runtime.main
    ) >"$log_file" 2>&1 </dev/null &
    printf '%s\n' "$!" >"$pid_file"
    local waited=0
    until healthy "$port"; do
        if ! is_running; then
            log "LocalStack exited while starting; the end of $log_file:"
            tail -n 30 "$log_file" >&2
            exit 1
        fi
        if ((waited >= 120)); then
            log "LocalStack did not answer /_localstack/health within 120 s; the end of $log_file:"
            tail -n 30 "$log_file" >&2
            stop
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "started on port $port in ${waited} s (log: .services/localstack/localstack.log)"
    print_env
}

stop() {
    if ! is_running; then
        rm -f "$pid_file"
        log "not running"
        return
    fi
    local pid
    pid=$(cat "$pid_file")
    # The whole group: LocalStack and the Kinesis emulator it started.
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 -- "-$pid" 2>/dev/null; then
        log "still running after 30 s: killing its process group"
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
    log "stopped"
}

run() {
    if [[ $# -eq 0 ]]; then
        echo "usage: $0 run COMMAND [ARGS...]" >&2
        exit 2
    fi
    trap stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local settings status=0
    settings=$(start)
    eval "$settings"
    # In the background, so that a signal to this script stops LocalStack at once (bash runs
    # traps only between commands); the command gets the signal too.
    "$@" &
    command_pid=$!
    trap 'kill -INT "$command_pid" 2>/dev/null; exit 130' INT
    trap 'kill -TERM "$command_pid" 2>/dev/null; exit 143' TERM
    wait "$command_pid" || status=$?
    return "$status"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
run)
    shift
    run "$@"
    ;;
*)
    echo "usage: $0 install|start|stop|run COMMAND..." >&2
    exit 2
    ;;
esac
