"""A daemon's own SQLite database: opened one way (WAL, full sync), written in all-or-nothing steps.

The alerts daemon keeps what it saw and sent in one; the dashboard keeps its
operators, acks and audit in another. Neither ever lives in tickets/.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def connect(path: Path, schema: str) -> sqlite3.Connection:
    """The database at *path* (made, with its folder, if missing; only its owner may read it)."""
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    try:
        os.chmod(path, 0o600)  # also one made before this rule, or by hand
    except PermissionError:
        pass
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


class Transaction:
    """``with Transaction(db):`` all or nothing (a crash midway changes nothing)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
