"""``python -m watcher [--config FILE] [--once | --check]``.

Exit status: 0 success, 2 unusable configuration or arguments (one line on
stderr naming the file and key), 1 when ``--once`` could not complete a cycle.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

from ticketdash import cli
from ticketdash import config as configuration
from ticketdash import logs
from ticketdash.daemon import on_stop
from ticketdash.secrets import exposed
from ticketdash.store import StoreError, TicketStore
from watcher.check import check
from watcher.claims import Claimer
from watcher.sources import ClientSource
from watcher.daemon import Stopped, Watcher, make_source, stoppable_sleep
from watcher.hooks import Pushes, Receiver

logger = logging.getLogger("watcher")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m watcher", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run one cycle and exit (0 ok, 1 failed)")
    mode.add_argument("--check", action="store_true",
                      help="ask the helpdesk what the key can see, and write nothing (0 ok, 1 not working)")
    args, config = cli.command_line(parser, argv)
    try:
        if config.watcher.source != "demo":
            config.require_source()
        write_key = configuration.write_key(config)
    except configuration.ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    logs.setup(config.logging.level, (config.api_key, config.webhook_secret, write_key))
    problem = exposed(config.account.key_file[1]) if config.watcher.source != "demo" else None
    if problem:
        logger.warning("%s: [%s] %s: %s", config.path, config.watcher.source, config.account.key_file[0], problem)
    if args.check:
        source = make_source(config, time.sleep)
        try:
            return check(config, source, sys.stdout)
        finally:
            source.close()

    store = TicketStore(config.paths.tickets)
    try:
        store.lock()
    except (StoreError, OSError) as error:
        print(f"{config.path}: [paths] tickets: {error}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def stop_now() -> None:  # even mid-call: nothing half-written survives, the store writes atomically
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        stop.set()
        raise Stopped

    on_stop(stop_now)

    watcher: Watcher | None = None

    def announce(seconds: float, why: str) -> None:
        if watcher is not None:
            watcher.announce(seconds, why)

    source = make_source(config, stoppable_sleep(stop), announce)
    claimer = None
    if write_key is not None and isinstance(source, ClientSource) and config.gui.claims_dir is not None:
        claimer = Claimer(config.gui.claims_dir, store, source, source.client.with_key(write_key),
                          mask=config.api_key.mask if config.api_key else str)
    watcher = Watcher(config, store, source, claimer=claimer)
    logger.info("watching %s (source %s, every %g s) into %s", config.api_url
                if source.name != "demo" else "the demo helpdesk", source.name,
                config.watcher.interval, store.folder)
    receiver: Receiver | None = None
    try:
        if args.once:
            return 0 if watcher.run_cycle() else 1
        pushes = None
        if config.webhook_secret is not None:  # set exactly when [watcher] webhook_port is
            pushes = Pushes()
            try:
                receiver = Receiver(config.watcher.webhook_host, config.watcher.webhook_port, config.webhook_secret,
                                    pushes, lambda: source.usage.held_until)
            except OSError as error:
                print(f"{config.path}: [watcher] webhook_port: cannot listen on {config.watcher.webhook_host}:"
                      f"{config.watcher.webhook_port}: {error.strerror or error}", file=sys.stderr)
                return 2
            receiver.start()
        watcher.run_forever(stop, pushes)
        return 0
    except Stopped:
        logger.info("stopped")
        return 1 if args.once else 0
    finally:
        if receiver is not None:
            receiver.stop()
        source.close()
        store.unlock()


if __name__ == "__main__":
    sys.exit(main())
