"""The one table of what a status means on the wall, by its name (any case).

A status pauses the SLA (``[rules] paused_statuses``) or counts; and it puts
a ticket in a section of the wall: Waiting on agent, Other active, or Open
(``[gui] waiting_on_agent_statuses``, ``other_statuses``; every other status
is Open, or Waiting on agent when the customer wrote last). Which statuses
mean a ticket left is a fact of each helpdesk product, so each source says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


def _folded(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.casefold() for name in names)


@dataclass(frozen=True)
class StatusTable:
    paused: frozenset[str] = frozenset()
    waiting: frozenset[str] = frozenset()
    other: frozenset[str] = frozenset()

    @classmethod
    def of(cls, paused: Iterable[str], waiting: Iterable[str] = (), other: Iterable[str] = ()) -> StatusTable:
        return cls(_folded(paused), _folded(waiting), _folded(other))

    def kind(self, name: str) -> str:
        """"paused" or "active" (a ticket on the wall is never done)."""
        return "paused" if name.casefold() in self.paused else "active"

    def section(self, name: str, replied: bool) -> str:
        folded = name.casefold()
        if folded in self.waiting:
            return "waiting"
        if folded in self.other:
            return "other"
        return "waiting" if replied else "open"
