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
    parser.add_argument("--test", nargs="?", const="", metavar="ROUTE",
                        help="send a test message through every route (or the one named) and say which arrived")
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
    slack = config.slack_access
    logs.setup(config.logging.level, (config.api_key, config.access_key,
                                      *(Secret(piece) for url in urls for piece in secret_parts(url)),
                                      *((slack.app_token, slack.bot_token, slack.relay_token) if slack else ())))
    if args.test is not None:
        return send_test(config, args.test)
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
    bot = None
    if config.slack_access is not None:
        from alerts.slack import SlackBot

        bot = SlackBot(config)
        bot.listen()
    alerts = Alerts(config, state, bot=bot)
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
        if bot is not None:
            bot.close()
        owner.close()


def send_test(config: configuration.Config, only: str) -> int:
    """One test message through each channel of every route (or of the route *only*); 0 when all arrived.
    Nothing is recorded: the daemon's database and outbox are not touched."""
    from alerts.channels import Channels, shown

    routes = [route for route in config.routes if not only or route.name == only]
    if not routes:
        known = ", ".join(route.name for route in config.routes) or "none configured"
        print(f"{config.path}: [[alerts.routes]]: no route {only!r} (routes: {known})" if only
              else f"{config.path}: no [[alerts.routes]] configured: nothing to test", file=sys.stderr)
        return 2
    bot = None
    if config.slack_access is not None:
        from alerts.slack import SlackBot

        bot = SlackBot(config)
    channels, failed = Channels(0, bot=bot), 0
    for route in routes:
        for url in config.alert_urls[route.name]:
            why = channels.send(url, "Ticket Dash: test message",
                                f"A test of the alert route {route.name!r}: if you read this, it works.")
            failed += why is not None
            print(f"{route.name}: {shown(url)}: " + ("sent" if why is None else f"FAILED: {why}"), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
