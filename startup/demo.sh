#!/usr/bin/env bash
# Set up and run Ticket Dash on the built-in demo helpdesk with a simulated light:
# the watcher (demo source), the dashboard and blinky, together. Ctrl-C stops all three.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
make_venv
cd "$ROOT"
exec "$VENV/bin/python" -m ticketdash.launch --config "$ROOT/config/demo.toml" "$@"
