#!/usr/bin/env bash
# Set up and run Ticket Dash on the built-in demo helpdesk with a simulated light.
# Ctrl-C stops everything.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
make_venv
cd "$ROOT"
exec "$VENV/bin/python" -m watcher --config "$ROOT/config/demo.toml" "$@"
