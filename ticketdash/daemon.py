"""What every daemon shares: one way to be stopped, a loop that wakes on change, and status files.

One copy per resource is `ticketdash.owner`.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any, Callable

from ticketdash.store import atomic_write, encode

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # after a turn that failed
STATUS_PREFIX = ".status-"  # a status file's temporary name: never the watcher's to clean up


def on_stop(stop: Callable[[], None]) -> None:
    """SIGTERM (systemd) and SIGINT (Ctrl-C) both call *stop*: the one way a daemon is asked to end."""
    signal.signal(signal.SIGTERM, lambda signum, frame: stop())
    signal.signal(signal.SIGINT, lambda signum, frame: stop())


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Say what a daemon is doing, atomically, in its status file; a failure to write is a warning."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, encode(status), prefix=STATUS_PREFIX)
    except OSError as error:
        logger.warning("cannot write the status file %s: %s", path, error)


class WakeLoop:
    """A daemon's main loop: a turn at every `wake` (after a burst settles), and when the last turn said.

    A turn that raises is logged and tried again shortly: one bug must not end months of watching.
    """

    def __init__(self, settle_seconds: float) -> None:
        self.settle_seconds = settle_seconds
        self.woken = threading.Event()
        self.stopping = threading.Event()

    def turn(self) -> float:
        """Do the work; the seconds until a turn is due even if nothing changes."""
        raise NotImplementedError

    def run(self) -> None:
        """Turn until `stop`."""
        while not self.stopping.is_set():
            self.woken.clear()
            try:
                timeout = self.turn()
            except Exception:
                logger.exception("%s failed; trying again shortly", type(self).__name__)
                timeout = RETRY_SECONDS
            if self.woken.wait(timeout) and self.settle_seconds and not self.stopping.is_set():
                self.stopping.wait(self.settle_seconds)  # let a burst of file events settle

    def wake(self) -> None:
        self.woken.set()

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()
