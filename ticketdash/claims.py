"""Claims ("assign to me"): the dashboard asks, the watcher alone talks to the helpdesk.

The dashboard writes each claim as one small JSON file into its outbox (its
own folder, beside the tickets folder, never in it). The watcher sends them
within its call budget with the key that may write, and keeps what became of
each in ``tickets/_claims.json``, which the dashboard reads to tell the
agent. A claim is marked ``sending`` before its first call: a watcher that
stops half-way never sends it again after a restart, and says so.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Container

from ticketdash import timefmt
from ticketdash.store import MAX_STATUS_BYTES, atomic_write, is_id, loads, read_regular
from ticketdash.text import one_line

RESULTS_FILE = "_claims.json"
KEEP = 200  # results kept, newest first
EXPIRE_SECONDS = 86_400  # a claim the watcher never picked up is dropped after a day
SENDING, DONE, FAILED = "sending", "done", "failed"


@dataclass(frozen=True)
class Claim:
    id: str
    ticket: int
    agent_id: int
    by: str  # the operator's name, for the note and the audit
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "ticket": self.ticket, "agent_id": self.agent_id, "by": self.by,
                "at": timefmt.format(self.at)}


def put(outbox: Path, ticket: int, agent_id: int, by: str, now: datetime) -> Claim:
    """Queue one claim for the watcher (atomically: it never reads half a file)."""
    claim = Claim(secrets.token_hex(8), ticket, agent_id, one_line(by)[:80], now)
    outbox.mkdir(mode=0o750, parents=True, exist_ok=True)
    atomic_write(outbox / f"{claim.id}.json", json.dumps(claim.as_json()).encode())
    return claim


def waiting(outbox: Path, known: Container[str] = ()) -> list[Claim]:
    """The claims in the outbox, oldest first, but those *known* (by id: not even read); what cannot be
    read is skipped (and left for `tidy`)."""
    found = []
    try:
        entries = list(os.scandir(outbox))
    except FileNotFoundError:
        return []
    for entry in entries:
        if (not entry.name.endswith(".json") or entry.name.removesuffix(".json") in known
                or not entry.is_file(follow_symlinks=False)):
            continue
        try:
            found.append(_claim(loads(read_regular(Path(entry.path), MAX_STATUS_BYTES))))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda c: (c.at, c.id))


def _claim(data: Any) -> Claim:
    if not (isinstance(data, dict) and isinstance(data.get("id"), str) and len(data["id"]) <= 32
            and is_id(data.get("ticket")) and is_id(data.get("agent_id")) and isinstance(data.get("by"), str)):
        raise ValueError("not a claim")
    at = timefmt.parse(data.get("at"))
    if at is None:
        raise ValueError("no time")
    return Claim(data["id"], data["ticket"], data["agent_id"], one_line(data["by"])[:80], at)


def results(tickets: Path) -> dict[str, dict[str, Any]]:
    """What became of each claim, by id: ``status`` (sending, done, failed), ``ticket``, ``by``,
    ``error`` and ``at``. Unreadable means none known."""
    try:
        data = loads(read_regular(tickets / RESULTS_FILE, MAX_STATUS_BYTES))
    except (OSError, ValueError):
        return {}
    found = data.get("claims") if isinstance(data, dict) else None
    return {k: v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def record(tickets: Path, known: dict[str, dict[str, Any]], claim: Claim, status: str, error: str,
           now: datetime) -> None:
    """Keep what became of *claim* (the watcher alone writes this file, atomically)."""
    known[claim.id] = {"status": status, "ticket": claim.ticket, "by": claim.by, "error": error,
                       "at": timefmt.format(now)}
    newest = sorted(known.items(), key=lambda item: str(item[1].get("at", "")), reverse=True)[:KEEP]
    known.clear()
    known.update(newest)
    atomic_write(tickets / RESULTS_FILE, json.dumps({"version": 1, "claims": known}).encode())


def tidy(outbox: Path, known: dict[str, dict[str, Any]], now: datetime) -> None:
    """The dashboard's side: a claim the watcher answered leaves the outbox; so does one older than a day."""
    try:
        entries = list(os.scandir(outbox))
    except FileNotFoundError:
        return
    for entry in entries:
        claim_id = entry.name.removesuffix(".json")
        try:
            old = now.timestamp() - entry.stat(follow_symlinks=False).st_mtime > EXPIRE_SECONDS
            if (claim_id in known and known[claim_id].get("status") != SENDING) or old:
                os.unlink(entry.path)
        except OSError:
            continue
