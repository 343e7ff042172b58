"""The alerts daemon's memory, in its own SQLite database (never in tickets/).

- ``seen``: the last state seen of each ticket and of the board, so that a
  restart neither repeats a message nor misses a transition made while down.
- ``outbox``: one row per message and channel, until delivered. A delivery
  is marked sent in the same moment it succeeds; a failed one keeps its row
  and is retried with backoff, across restarts. A row names its channel by
  reference (``route:<name>:<n>``, ``agent:<id>``), never by its URL: the
  URLs carry tokens, and they stay in the configuration.
- ``events``: every transition, for the weekly summary's figures.
- ``marks``: when the reminders and the summary last went out.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from ticketdash import timefmt
from ticketdash.database import Transaction, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, state TEXT NOT NULL, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    dedupe TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    not_before TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent_at, not_before);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, state TEXT NOT NULL, previous TEXT, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, at TEXT NOT NULL);
"""
KEEP_SENT_DAYS = 60


@dataclass(frozen=True)
class Message:
    id: int
    route: str
    channel: str  # a reference, resolved from the configuration when delivered
    title: str
    body: str
    attempts: int
    failing_since: datetime | None
    dedupe: str = ""  # what it is about: route|channel index|event

class State:
    def __init__(self, path: Path) -> None:
        self.db = connect(path, SCHEMA)
        # Rows from before references held whole URLs: once sent, they need none.
        self.db.execute("UPDATE outbox SET url = '' WHERE sent_at IS NOT NULL AND url LIKE '%://%'")

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> sqlite3.Connection:
        """``with state.transaction():`` all or nothing (a crash midway changes nothing)."""
        return Transaction(self.db)  # type: ignore[return-value]

    # -- what was seen ---------------------------------------------------

    def seen(self) -> dict[str, tuple[str, str]]:
        return {key: (state, since) for key, state, since in self.db.execute("SELECT key, state, since FROM seen")}

    def set_seen(self, key: str, state: str, at: datetime) -> None:
        self.db.execute("INSERT INTO seen (key, state, since) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
                        "SET state = excluded.state, since = excluded.since", (key, state, timefmt.format(at)))

    def forget(self, keys: list[str]) -> None:
        self.db.executemany("DELETE FROM seen WHERE key = ?", [(k,) for k in keys])

    def record(self, key: str, state: str, previous: str | None, at: datetime) -> None:
        self.db.execute("INSERT INTO events (key, state, previous, at) VALUES (?, ?, ?, ?)",
                        (key, state, previous, timefmt.format(at)))

    def events(self, since: datetime, until: datetime) -> Iterator[tuple[str, str, str | None, str]]:
        yield from self.db.execute("SELECT key, state, previous, at FROM events WHERE at >= ? AND at <= ? ORDER BY at",
                                   (timefmt.format(since), timefmt.format(until)))

    # -- the outbox ------------------------------------------------------

    def enqueue(self, dedupe: str, route: str, channel: str, title: str, body: str, at: datetime,
                not_before: datetime) -> bool:
        """Queue one message for one *channel* (a reference); False when this very message was queued before."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO outbox (dedupe, route, url, title, body, created_at, not_before) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (dedupe, route, channel, title, body, timefmt.format(at), timefmt.format(not_before)))
        return cursor.rowcount == 1

    def due(self, now: datetime) -> list[Message]:
        rows = self.db.execute(
            "SELECT id, route, url, title, body, attempts, failing_since, dedupe FROM outbox "
            "WHERE sent_at IS NULL AND not_before <= ? ORDER BY id", (timefmt.format(now),))
        return [Message(i, r, u, t, b, a, timefmt.parse(f), d) for i, r, u, t, b, a, f, d in rows]

    def next_due(self) -> datetime | None:
        row = self.db.execute("SELECT MIN(not_before) FROM outbox WHERE sent_at IS NULL").fetchone()
        return timefmt.parse(row[0]) if row and row[0] else None

    def sent(self, message_id: int, at: datetime) -> None:
        self.db.execute("UPDATE outbox SET sent_at = ?, last_error = NULL, url = CASE WHEN url LIKE '%://%' "
                        "THEN '' ELSE url END WHERE id = ?", (timefmt.format(at), message_id))

    def drop(self, message_id: int) -> None:
        """A message whose channel is no longer configured: nowhere left to send it."""
        self.db.execute("DELETE FROM outbox WHERE id = ?", (message_id,))

    def failed(self, message_id: int, at: datetime, error: str, retry_at: datetime) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, not_before = ?, "
            "failing_since = COALESCE(failing_since, ?) WHERE id = ?",
            (error, timefmt.format(retry_at), timefmt.format(at), message_id))

    def failing(self) -> list[tuple[str, str, str, int]]:
        """(route, since, last error, messages waiting) per route whose deliveries are failing."""
        return list(self.db.execute(
            "SELECT route, MIN(failing_since), MAX(last_error), COUNT(*) FROM outbox "
            "WHERE sent_at IS NULL AND failing_since IS NOT NULL GROUP BY route ORDER BY route"))

    def last_sent(self) -> datetime | None:
        row = self.db.execute("SELECT MAX(sent_at) FROM outbox").fetchone()
        return timefmt.parse(row[0]) if row and row[0] else None

    def prune(self, before: datetime) -> None:
        self.db.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", (timefmt.format(before),))
        self.db.execute("DELETE FROM events WHERE at < ?", (timefmt.format(before),))

    # -- marks -----------------------------------------------------------

    def mark(self, name: str) -> datetime | None:
        row = self.db.execute("SELECT at FROM marks WHERE name = ?", (name,)).fetchone()
        return timefmt.parse(row[0]) if row else None

    def set_mark(self, name: str, at: datetime) -> None:
        self.db.execute("INSERT INTO marks (name, at) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET at = excluded.at",
                        (name, timefmt.format(at)))
