"""Sending the dashboard's claims ("assign to me") to the helpdesk: the watcher's side of
:mod:`ticketdash.claims`.

Each claim costs three calls (assign, private note, read back), taken from
the same budget as the sync. A claim is marked ``sending`` before its first
call, so none is ever sent twice, whatever stops the watcher; one that
waited longer than ``FRESH_SECONDS`` (the watcher was down, the helpdesk
rate-limited us) is not sent at all: the agent may have moved on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from ticketdash import claims, timefmt
from ticketdash.claims import DONE, FAILED, SENDING, Claim
from ticketdash.store import TicketStore
from watcher.client import ApiClient
from watcher.sources import Source
from watcher.transport import ApiError

logger = logging.getLogger(__name__)

CALLS_PER_CLAIM = 3
FRESH_SECONDS = 30 * 60


class Claimer:
    def __init__(self, outbox: Path, store: TicketStore, source: Source, writer: ApiClient,
                 clock: Callable[[], datetime] = timefmt.now, mask: Callable[[str], str] = str) -> None:
        self.outbox = outbox
        self.store = store
        self.source = source
        self.writer = writer
        self.clock = clock
        self.mask = mask
        self.known = claims.results(store.folder)
        for claim_id, result in list(self.known.items()):
            if result.get("status") == SENDING:  # the watcher stopped half-way: never again
                stopped = Claim(claim_id, int(result.get("ticket") or 0), 0, str(result.get("by", "")), clock())
                self._record(stopped, FAILED, f"the watcher stopped while sending it: check ticket {stopped.ticket} "
                                              f"in {source.label} before trying again")

    def pending(self) -> list[Claim]:
        return claims.waiting(self.outbox, self.known)

    def run(self, spare_calls: int) -> int:
        """Send what waits, as far as *spare_calls* allow (one claim at least); how many were sent."""
        sent = 0
        for claim in self.pending()[:max(1, spare_calls // CALLS_PER_CLAIM)]:
            if (self.clock() - claim.at).total_seconds() > FRESH_SECONDS:
                self._record(claim, FAILED, "not sent: it waited too long (the helpdesk was unreachable or busy)")
                continue
            self._record(claim, SENDING, "")
            claim_it: Any = getattr(self.source, "claim", None)
            try:
                if claim_it is None:
                    raise ApiError(f"claims work with Freshservice, not {self.source.label}")
                claim_it(self.writer, claim.ticket, claim.agent_id, f"Acknowledged on the wall by {claim.by}")
            except ApiError as error:
                logger.warning("claim of ticket %d for %s failed: %s", claim.ticket, claim.by, self.mask(str(error)))
                self._record(claim, FAILED, self.mask(str(error)))
            else:
                logger.info("ticket %d assigned to %s (agent %d)", claim.ticket, claim.by, claim.agent_id)
                self._record(claim, DONE, "")
            sent += 1
        return sent

    def _record(self, claim: Claim, status: str, error: str) -> None:
        claims.record(self.store.folder, self.known, claim, status, error, self.clock())
