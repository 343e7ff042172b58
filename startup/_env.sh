# Shared by startup/demo.sh and startup/test.sh: system packages, then the venv.
# Sourced, not run. Installs only what is missing, so a second run is quick.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TICKETDASH_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_need PACKAGE:COMMAND ... installs each package whose command is missing.
apt_need() {
    local missing=() item
    for item in "$@"; do
        command -v "${item#*:}" >/dev/null 2>&1 || missing+=("${item%%:*}")
    done
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "missing $* and no apt-get: install them by hand" >&2; return 1
    fi
    echo "installing $* (apt-get)" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

make_venv() {
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "Ticket Dash needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2; return 1; }
    if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    local stamp="$VENV/.installed" extras="${1:-}"
    if [ ! -f "$stamp" ] || [ "$ROOT/setup.cfg" -nt "$stamp" ] || [ "$ROOT/startup/constraints.txt" -nt "$stamp" ] \
            || ! grep -qx "extras=$extras" "$stamp"; then
        # The versions the tests ran with (startup/constraints.txt), not whatever is newest today.
        "$VENV/bin/pip" install -q --disable-pip-version-check -c "$ROOT/startup/constraints.txt" \
            -e "$ROOT${extras:+[$extras]}"
        echo "extras=$extras" > "$stamp"
    fi
}
