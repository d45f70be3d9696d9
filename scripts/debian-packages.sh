# Sourced by the scripts that need Debian packages (postgres.sh, graphviz.sh, localstack.sh):
# installs them when run as root, otherwise says how and fails. The caller defines `log`.

# install_debian_packages WHAT PACKAGE...
install_debian_packages() {
    local what=$1
    shift
    if [[ $(id -u) -ne 0 ]]; then
        log "$what missing: run as root, or apt-get install -y $*"
        exit 1
    fi
    log "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "$@" >/dev/null
}
