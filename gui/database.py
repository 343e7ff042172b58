"""The dashboard's own database: operators, their sign-ins, the acks, and the audit of every write.

It sits beside the tickets folder, never in it (``[gui] database``). Tokens
and session ids are kept only as SHA-256 hashes: they are 256-bit random
values, so a hash is all a lookup needs and a stolen database grants nothing.
After every change to the acks, the current ones are written to
``[gui] acks_file`` for the light, the alerts and the page (`ticketdash.acks`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ticketdash import acks as acknowledgements
from ticketdash import timefmt
from ticketdash.acks import Ack
from ticketdash.database import Transaction, connect
from ticketdash.store import atomic_write, encode

SCHEMA = """
CREATE TABLE IF NOT EXISTS operators (
    name TEXT PRIMARY KEY, agent_id INTEGER, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY, operator TEXT NOT NULL, csrf TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS acks (
    helpdesk TEXT NOT NULL, ticket INTEGER NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL, until TEXT NOT NULL,
    state TEXT NOT NULL, note TEXT NOT NULL, PRIMARY KEY (helpdesk, ticket)
);
CREATE TABLE IF NOT EXISTS devices (
    name TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS device_sessions (
    id_hash TEXT PRIMARY KEY, device TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
    address TEXT NOT NULL, result TEXT NOT NULL
);
"""
ROLES = ("agent", "lead", "relay")  # a relay (the Slack bot) writes only for another operator, by name
TOKEN_PREFIX = "td_"
KEEP_AUDIT = 100_000


@dataclass(frozen=True)
class Operator:
    name: str
    agent_id: int | None
    role: str

    @property
    def lead(self) -> bool:
        return self.role == "lead"


@dataclass(frozen=True)
class Session:
    operator: Operator
    csrf: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


class Database:
    def __init__(self, path: Path, acks_file: Path) -> None:
        self.path = path
        self.acks_file = acks_file
        self.db = connect(path, SCHEMA)
        _give_to_folder_owner(path)
        self.lock = threading.Lock()

    def close(self) -> None:
        self.db.close()
        _give_to_folder_owner(self.path)

    # -- operators -------------------------------------------------------

    def add_operator(self, name: str, agent_id: int | None, role: str, now: datetime) -> str:
        """A new operator; its token, which is shown once and stored only as a hash."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.lock, Transaction(self.db):
            self.db.execute("INSERT INTO operators (name, agent_id, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                            (name, agent_id, role, digest(token), timefmt.format(now)))
        return token

    def rotate(self, name: str) -> str | None:
        """A new token for *name* (the old one and its sign-ins stop working); None: no such operator."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.lock, Transaction(self.db):
            changed = self.db.execute("UPDATE operators SET token_hash = ? WHERE name = ?", (digest(token), name))
            self.db.execute("DELETE FROM sessions WHERE operator = ?", (name,))
        return token if changed.rowcount else None

    def remove_operator(self, name: str) -> bool:
        with self.lock, Transaction(self.db):
            removed = self.db.execute("DELETE FROM operators WHERE name = ?", (name,))
            self.db.execute("DELETE FROM sessions WHERE operator = ?", (name,))
        return bool(removed.rowcount)

    def operators(self) -> list[tuple[Operator, str]]:
        with self.lock:
            rows = self.db.execute("SELECT name, agent_id, role, created_at FROM operators ORDER BY name").fetchall()
        return [(Operator(name, agent, role), created) for name, agent, role, created in rows]

    def operator(self, name: str) -> Operator | None:
        with self.lock:
            row = self.db.execute("SELECT name, agent_id, role FROM operators WHERE name = ?", (name,)).fetchone()
        return Operator(*row) if row else None

    def by_token(self, token: str) -> Operator | None:
        """The operator whose token this is (looked up by hash)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        with self.lock:
            row = self.db.execute("SELECT name, agent_id, role FROM operators WHERE token_hash = ?",
                                  (digest(token),)).fetchone()
        return Operator(*row) if row else None

    # -- sign-ins --------------------------------------------------------

    def open_session(self, operator: Operator, hours: float, now: datetime) -> tuple[str, Session]:
        """A new sign-in: (its cookie value, the session with its CSRF token)."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.lock, Transaction(self.db):
            self.db.execute("DELETE FROM sessions WHERE expires_at <= ?", (timefmt.format(now),))
            self.db.execute("INSERT INTO sessions (id_hash, operator, csrf, expires_at) VALUES (?, ?, ?, ?)",
                            (digest(session_id), operator.name, csrf, timefmt.format(now + timedelta(hours=hours))))
        return session_id, Session(operator, csrf)

    def session(self, session_id: str, now: datetime) -> Session | None:
        if not session_id or len(session_id) > 100:
            return None
        with self.lock:
            row = self.db.execute(
                "SELECT o.name, o.agent_id, o.role, s.csrf FROM sessions s JOIN operators o ON o.name = s.operator "
                "WHERE s.id_hash = ? AND s.expires_at > ?", (digest(session_id), timefmt.format(now))).fetchone()
        return Session(Operator(*row[:3]), row[3]) if row else None

    def close_session(self, session_id: str) -> None:
        with self.lock, Transaction(self.db):
            self.db.execute("DELETE FROM sessions WHERE id_hash = ?", (digest(session_id),))

    # -- devices: the TVs' and programs' read-only keys --------------------

    def add_device(self, name: str, now: datetime) -> str:
        """A new read-only key for one TV or program (again, after a revoke); shown once, kept as a hash.
        IntegrityError when *name* has a key already."""
        key = secrets.token_urlsafe(24)
        with self.lock, Transaction(self.db):
            self.db.execute("DELETE FROM devices WHERE name = ? AND revoked_at IS NOT NULL", (name,))
            self.db.execute("INSERT INTO devices (name, key_hash, created_at) VALUES (?, ?, ?)",
                            (name, digest(key), timefmt.format(now)))
        return key

    def revoke_device(self, name: str, now: datetime) -> bool:
        """Its key and cookies stop working. The row stays: a wall that ever had keys never turns open
        because the last one was revoked."""
        with self.lock, Transaction(self.db):
            revoked = self.db.execute("UPDATE devices SET revoked_at = ?, key_hash = ? WHERE name = ? AND "
                                      "revoked_at IS NULL", (timefmt.format(now), "revoked:" + name, name))
            self.db.execute("DELETE FROM device_sessions WHERE device = ?", (name,))
        return bool(revoked.rowcount)

    def devices(self) -> list[tuple[str, str, str | None]]:
        """(name, since, revoked at) of every device that ever had a key."""
        with self.lock:
            return self.db.execute("SELECT name, created_at, revoked_at FROM devices ORDER BY name").fetchall()

    def any_devices(self) -> bool:
        """Whether any device ever had a key (asked on every request that shows none)."""
        with self.lock:
            return self.db.execute("SELECT 1 FROM devices LIMIT 1").fetchone() is not None

    def device_by_key(self, key: str) -> str | None:
        if not key or len(key) > 200:
            return None
        with self.lock:
            row = self.db.execute("SELECT name FROM devices WHERE key_hash = ? AND revoked_at IS NULL",
                                  (digest(key),)).fetchone()
        return row[0] if row else None

    def open_device_session(self, device: str, days: float, now: datetime) -> str:
        """A cookie for *device*, in place of its key, that ends after *days* (or when it is revoked)."""
        session_id = secrets.token_urlsafe(32)
        with self.lock, Transaction(self.db):
            self.db.execute("DELETE FROM device_sessions WHERE expires_at <= ?", (timefmt.format(now),))
            self.db.execute("INSERT INTO device_sessions (id_hash, device, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                            (digest(session_id), device, timefmt.format(now),
                             timefmt.format(now + timedelta(days=days))))
        return session_id

    def device_session(self, session_id: str, now: datetime) -> tuple[str, datetime] | None:
        """(device, issued at) of a live cookie; None when unknown, ended or revoked."""
        if not session_id or len(session_id) > 100:
            return None
        with self.lock:
            row = self.db.execute("SELECT device, issued_at FROM device_sessions WHERE id_hash = ? AND expires_at > ?",
                                  (digest(session_id), timefmt.format(now))).fetchone()
        issued = timefmt.parse(row[1]) if row else None
        return (row[0], issued) if row and issued else None

    def end_device_session(self, session_id: str, grace: timedelta, now: datetime) -> None:
        """A rotated cookie keeps working for *grace* (requests already on their way), then ends."""
        with self.lock, Transaction(self.db):
            self.db.execute("UPDATE device_sessions SET expires_at = ? WHERE id_hash = ? AND expires_at > ?",
                            (timefmt.format(now + grace), digest(session_id), timefmt.format(now + grace)))

    # -- acks ------------------------------------------------------------

    def ack(self, ack: Ack, now: datetime) -> None:
        with self.lock:
            with Transaction(self.db):
                self.db.execute("INSERT OR REPLACE INTO acks (helpdesk, ticket, by, at, until, state, note) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)", (ack.helpdesk, ack.ticket, ack.by,
                                                                 timefmt.format(ack.at), timefmt.format(ack.until),
                                                                 ack.state, ack.note))
            self._publish(now)

    def clear(self, helpdesk: str, ticket: int, now: datetime) -> Ack | None:
        """End the ack of a ticket; the ack that was cleared, if any."""
        with self.lock:
            found = self._acks(now, "WHERE helpdesk = ? AND ticket = ?", (helpdesk, ticket))
            with Transaction(self.db):
                self.db.execute("DELETE FROM acks WHERE helpdesk = ? AND ticket = ?", (helpdesk, ticket))
            self._publish(now)
        return found[0] if found else None

    def current_acks(self, now: datetime) -> list[Ack]:
        with self.lock:
            return self._acks(now)

    def publish(self, now: datetime) -> None:
        """Write the acks file from the database (at start: a restart keeps every ack)."""
        with self.lock:
            self._publish(now)

    def _acks(self, now: datetime, where: str = "", args: tuple[Any, ...] = ()) -> list[Ack]:
        rows = self.db.execute(f"SELECT helpdesk, ticket, by, at, until, state, note FROM acks {where}", args)
        found = []
        for helpdesk, ticket, by, at, until, state, note in rows:
            start, end = timefmt.parse(at), timefmt.parse(until)
            if start and end and end > now:
                found.append(Ack(helpdesk, ticket, by, start, end, state, note))
        return found

    def _publish(self, now: datetime) -> None:
        with Transaction(self.db):
            self.db.execute("DELETE FROM acks WHERE until <= ?", (timefmt.format(now),))
        self.acks_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.acks_file, encode(acknowledgements.snapshot(self._acks(now), now)))

    # -- audit -----------------------------------------------------------

    def audit(self, now: datetime, who: str, action: str, target: str, address: str, result: str) -> None:
        with self.lock, Transaction(self.db):
            cursor = self.db.execute("INSERT INTO audit (at, who, action, target, address, result) "
                                     "VALUES (?, ?, ?, ?, ?, ?)",
                                     (timefmt.format(now), who[:80], action, target[:80], address[:64], result[:200]))
            if cursor.lastrowid and cursor.lastrowid % 1000 == 0:
                self.db.execute("DELETE FROM audit WHERE id <= ?", (cursor.lastrowid - KEEP_AUDIT,))

    def audit_log(self, limit: int = 200) -> list[dict[str, str]]:
        with self.lock:
            rows = self.db.execute("SELECT at, who, action, target, address, result FROM audit ORDER BY id DESC "
                                   "LIMIT ?", (limit,)).fetchall()
        return [dict(zip(("at", "who", "action", "target", "address", "result"), row)) for row in rows]


def _give_to_folder_owner(path: Path) -> None:
    """Run by root (``sudo python -m gui operators add``), the files still belong to the service user
    who owns the folder, so that the dashboard can keep writing them."""
    if os.geteuid() != 0:
        return
    owner = path.parent.stat()
    if owner.st_uid == 0:
        return
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            os.chown(file, owner.st_uid, owner.st_gid)
