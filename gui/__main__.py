"""``python -m gui [--config FILE]``: the wall dashboard, served by waitress.

``python -m gui operators ...`` manages who may acknowledge, ``python -m gui keys ...`` which TV or
program may read (`gui.operators`).

Exit status: 0 after SIGTERM/SIGINT, 2 for an unusable configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ticketdash import cli
from ticketdash import config as configuration
from ticketdash import logs
from ticketdash.daemon import on_stop
from gui.serving import GuardedServer, at_accept

logger = logging.getLogger("gui")
MAX_BODY = 4096
CONNECTIONS = 1000  # async sockets are cheap; slow ones are closed within serving.READ_SECONDS


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["operators"], ["keys"]):
        from gui import operators

        return operators.main(argv[0], argv[1:])
    parser = argparse.ArgumentParser(prog="python -m gui", description="Serve the wall dashboard.",
                                     epilog="python -m gui operators --help: who may acknowledge; "
                                            "python -m gui keys --help: which TV or program may read")
    _, config = cli.command_line(parser, argv)
    logs.setup(config.logging.level, (config.api_key, config.access_key))

    from gui import create_app  # after logging, so start-up messages are formatted

    gui = config.gui
    if config.access_key is None and not gui.allow_networks:
        logger.warning("no access key and no allow_networks: anyone who can reach %s:%d, directly or through a "
                       "proxy such as nginx, can read every ticket (README 'Who may look': put a key in %s)",
                       gui.host, gui.port, gui.access_key_file)
    if not (gui.cert_file.exists() and gui.key_file.exists()):
        logger.warning("no certificate (%s): serving plain HTTP only; see README 'HTTPS'", gui.cert_file)

    try:
        app = create_app(config)
    except configuration.ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    server = GuardedServer(
        app, at_accept(gui.allow_networks), gui.trusted_proxy,
        host=gui.host, port=gui.port, threads=gui.threads, ident="ticketdash",
        trusted_proxy=gui.trusted_proxy, trusted_proxy_count=1,
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        clear_untrusted_proxy_headers=True,
        outbuf_overflow=16 * 1024 * 1024,  # a 5,000-ticket board stays in memory, not in a temporary file
        max_request_body_size=MAX_BODY, inbuf_overflow=MAX_BODY,  # a write is a few hundred bytes of JSON
        max_request_header_size=64 * 1024,
        connection_limit=CONNECTIONS,
    )

    def stop() -> None:
        raise SystemExit(0)  # waitress's loop catches it and shuts its workers down

    on_stop(stop)
    logger.info("dashboard on http://%s:%s/ (%d threads)", gui.host, server.effective_port, gui.threads)
    server.run()
    app.extensions["ticketdash"].folder.stop()
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
