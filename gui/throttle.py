"""How often one address (or one name) may fail, or one operator may write, in a sliding minute."""

from __future__ import annotations

import collections
import threading
import time
from typing import Callable

WINDOW = 60.0


class Throttle:
    """At most *limit* events per key in any *window* seconds; keys are forgotten when quiet."""

    def __init__(self, limit: int, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.events: dict[str, collections.deque[float]] = {}
        self.lock = threading.Lock()

    def blocked(self, key: str) -> float:
        """Seconds until *key* may act again; 0 when it may now."""
        with self.lock:
            recent = self._recent(key)
            if len(recent) < self.limit:
                return 0.0
            return max(0.1, recent[0] + self.window - self.clock())

    def note(self, key: str) -> None:
        with self.lock:
            self._recent(key).append(self.clock())
            if len(self.events) > 10_000:  # an address sweep must not grow memory without bound
                self.events = {k: v for k, v in self.events.items() if v}

    def _recent(self, key: str) -> collections.deque[float]:
        recent = self.events.setdefault(key, collections.deque())
        while recent and recent[0] <= self.clock() - self.window:
            recent.popleft()
        return recent
