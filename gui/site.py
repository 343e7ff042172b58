"""What every request of the dashboard shares: the configuration, the live board, the weekly figures
and the dashboard's own database.

`create_app` makes one `Site` per app; views reach it through `site()`, as
flaskr's views reach their database through ``get_db()``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import current_app

from ticketdash import rules, summary, timefmt
from ticketdash.config import Config
from ticketdash.live import Folders
from ticketdash.store import TicketStore
from gui.access import Access
from gui.board import Board
from gui.database import Database
from gui.throttle import Throttle


class Weekly:
    """The weekly summary, read from tickets/ and the archive at most once a minute."""

    def __init__(self, stores: list[TicketStore], policy: rules.Policy) -> None:
        self.stores = stores
        self.policy = policy
        self.lock = threading.Lock()
        self.made: tuple[float, summary.Summary] | None = None

    def current(self) -> summary.Summary:
        with self.lock:
            if self.made is None or time.monotonic() - self.made[0] > 60:
                self.made = (time.monotonic(), summary.weekly(self.stores, timefmt.now(), self.policy))
            return self.made[1]


@dataclass(frozen=True)
class Site:
    config: Config
    folder: Folders
    board: Board
    weekly: Weekly
    access: Access
    database: Database
    failures: Throttle  # wrong tokens and sign-ins, per address and per name
    writes: Throttle  # acks and clears, per operator
    link_secret: bytes | None = None  # signs the alerts' Acknowledge links (ticketdash.links)


def site() -> Site:
    """The running app's `Site`."""
    return current_app.extensions["ticketdash"]  # type: ignore[no-any-return]
