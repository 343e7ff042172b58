"""``python -m alerts [--config FILE] [--once]``: SLA transitions to Slack, Teams, e-mail ...

Exit status: 0 success (SIGTERM/SIGINT end it cleanly), 2 unusable
configuration (one line naming the file, the route and the key), 1 when
``--once`` could not deliver everything that was due.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path

from ticketdash import config as configuration
from ticketdash import logs
from ticketdash.config import ConfigError, Secret

logger = logging.getLogger("alerts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alerts", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="one step (judge, queue, deliver) and exit")
    args, config = configuration.command_line(parser, argv)
    running: list = []
    stop_asked = threading.Event()

    def on_signal(signum: int, frame: object) -> None:  # from the very start: start-up takes a moment
        stop_asked.set()
        for alerts in running:
            alerts.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Apprise takes a moment to import: only after a stop can be heard.
    from alerts.channels import secret_parts
    from alerts.daemon import Alerts, load_agent_urls, load_routes
    from alerts.state import State

    try:
        routes = load_routes(config)
        agent_urls = load_agent_urls(config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    urls = [url for route in routes for url in route.urls] + list(agent_urls.values())
    logs.setup(config.logging.level, (config.api_key, config.access_key,
                                      *(Secret(piece) for url in urls for piece in secret_parts(url))))
    try:
        owner = _claim(config.alerts.database)  # held for the life of the process
        state = State(config.alerts.database)
    except (OSError, sqlite3.Error) as error:
        print(f"{config.path}: [alerts] database: {config.alerts.database}: {error}", file=sys.stderr)
        return 2
    if owner is None:
        print(f"{config.path}: [alerts] database: another alerts daemon is already running on "
              f"{config.alerts.database}; stop it first (systemctl stop ticket-alerts)", file=sys.stderr)
        return 2
    alerts = Alerts(config, state, routes, agent_urls)
    running.append(alerts)
    if stop_asked.is_set():
        alerts.stop()
    if not routes:
        logger.warning("no [[alerts.routes]] configured: transitions are recorded, nothing is sent")
    try:
        if args.once:
            alerts.start(watch=False)
            alerts.step()
            return 1 if state.due(alerts.clock()) else 0
        logger.info("alerting on %s through %d route(s)", config.paths.tickets, len(routes))
        alerts.start()
        alerts.run()
        logger.info("stopped")
        return 0
    finally:
        alerts.close()


def _claim(database: Path) -> int | None:
    """One daemon per database: two would each deliver the same outbox. None when another has it."""
    database.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(database.with_name(database.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


if __name__ == "__main__":
    sys.exit(main())
