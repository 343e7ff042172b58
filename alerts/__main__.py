"""``python -m alerts [--config FILE] [--once]``: SLA transitions to Slack, Teams, e-mail ...

Exit status: 0 success (SIGTERM/SIGINT end it cleanly), 2 unusable
configuration (one line naming the file, the route and the key), 1 when
``--once`` could not deliver everything that was due.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import threading

from ticketdash import cli
from ticketdash import config as configuration
from ticketdash import logs
from ticketdash.config import ConfigError
from ticketdash.secrets import Secret
from ticketdash.daemon import on_stop
from ticketdash.owner import Taken, claim

logger = logging.getLogger("alerts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alerts", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="one step (judge, queue, deliver) and exit")
    args, config = cli.command_line(parser, argv)
    running: list = []
    stop_asked = threading.Event()

    def stop() -> None:  # heard from the very start: start-up takes a moment
        stop_asked.set()
        for alerts in running:
            alerts.stop()

    on_stop(stop)
    # Apprise takes a moment to import: only after a stop can be heard.
    from alerts.channels import problem, secret_parts
    from alerts.daemon import Alerts
    from alerts.state import State

    try:
        configuration.check_urls(config, problem)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    urls = [url for route_urls in config.alert_urls.values() for url in route_urls] + list(config.agent_urls.values())
    logs.setup(config.logging.level, (config.api_key, config.access_key,
                                      *(Secret(piece) for url in urls for piece in secret_parts(url))))
    try:  # one daemon per database: two would each deliver the same outbox
        owner = claim("alerts daemon", str(config.alerts.database))
    except Taken as error:
        print(f"{config.path}: [alerts] database: {error}; stop it first (systemctl stop ticket-alerts)",
              file=sys.stderr)
        return 2
    try:
        state = State(config.alerts.database)
    except (OSError, sqlite3.Error) as error:
        print(f"{config.path}: [alerts] database: {config.alerts.database}: {error}", file=sys.stderr)
        return 2
    alerts = Alerts(config, state)
    running.append(alerts)
    if stop_asked.is_set():
        alerts.stop()
    if not config.routes:
        logger.warning("no [[alerts.routes]] configured: transitions are recorded, nothing is sent")
    try:
        if args.once:
            alerts.start(watch=False)
            alerts.step()
            return 1 if state.due(alerts.clock()) else 0
        logger.info("alerting on %s through %d route(s)", config.paths.tickets, len(config.routes))
        alerts.start()
        alerts.run()
        logger.info("stopped")
        return 0
    finally:
        alerts.close()
        owner.close()


if __name__ == "__main__":
    sys.exit(main())
