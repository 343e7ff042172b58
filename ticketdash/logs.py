"""Logging, configured in exactly one place for every daemon.

Lines go to stderr. Under systemd (JOURNAL_STREAM set) journald adds the
time, so the line starts with the level; elsewhere it starts with the time.
Every known secret is masked in the final text, tracebacks included.
"""

from __future__ import annotations

import logging
import os
import sys

from ticketdash.secrets import Secret


class _RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt, datefmt="%Y-%m-%dT%H:%M:%S")
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def setup(level: str = "INFO", secrets: tuple[Secret | None, ...] = ()) -> None:
    """Send all logging to stderr, one line per record, secrets masked."""
    journald = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = "%(levelname)s %(name)s: %(message)s" if journald else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter(fmt, [form for s in secrets if s for form in s.forms()]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(max(logging.WARNING, root.level))
