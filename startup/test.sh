#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run it.
#   startup/test.sh [pytest arguments]
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
apt_need nginx:nginx chromium:chromium systemd:systemd-analyze mosquitto:mosquitto
make_venv test
cd "$ROOT"
set +e
# Four workers: most tests wait on a process or a socket, not on a core. Tests that drive one
# machine's lights share a group (--dist loadgroup); "-n 0" among the arguments runs serially.
"$VENV/bin/python" -m pytest -n 4 --dist loadgroup "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
