"""``python -m ticketdash.launch [--config FILE]``: watcher, dashboard, light and alerts together, in the foreground.

The README's demo command runs this on ``config/demo.toml``. One Ctrl-C (or
SIGTERM) stops all four; if one of them dies, the others are stopped too.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from ticketdash import cli
from ticketdash.daemon import on_stop

DAEMONS = ("watcher", "gui", "blinky", "alerts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ticketdash.launch", description=__doc__.splitlines()[0])
    _, config = cli.command_line(parser, argv)
    stopping = False

    def stop() -> None:
        nonlocal stopping
        stopping = True

    on_stop(stop)
    children = {}
    for name in DAEMONS:  # each child ignores the terminal's Ctrl-C; we stop them in order
        children[name] = subprocess.Popen([sys.executable, "-m", name, "--config", str(config.path)],
                                          start_new_session=True)
    host = "localhost" if config.gui.host in ("127.0.0.1", "0.0.0.0", "::") else config.gui.host
    print(f"\nTicket Dash is running: open http://{host}:{config.gui.port}/  (Ctrl-C stops it)\n", flush=True)
    failed = None
    while not stopping and failed is None:
        failed = next((n for n, c in children.items() if c.poll() is not None), None)
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    codes = {name: child.wait(timeout=30) for name, child in children.items()}
    if failed:
        print(f"{failed} stopped unexpectedly (exit {codes[failed]}); stopped the others", file=sys.stderr)
        return 1
    print("stopped: " + ", ".join(f"{n} (exit {c})" for n, c in codes.items()), flush=True)
    return 0 if not any(codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
