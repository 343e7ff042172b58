#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run it.
#   startup/test.sh [pytest arguments]
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
apt_need nginx:nginx chromium:chromium systemd:systemd-analyze
make_venv test
cd "$ROOT"
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
