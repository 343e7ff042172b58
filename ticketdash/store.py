"""The ``tickets/`` folder: the one owner of its format, for writers and readers.

- ``<id>.json``: one active ticket in the contract's shape (Freshservice's; every source writes it).
- ``archive/<YYYY-MM-DD>/<id>.json``: a ticket that left, filed by the day it left.
- ``_watcher.json``: the watcher's heartbeat; ``_names/``: names it discovered.

Every write is atomic (a temporary file in the same folder, then
``os.replace``), so a reader sees the old file or the new one, never half.
Temporary files start with a dot and do not end in ``.json``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ticketdash import timefmt
from ticketdash.owner import Taken, claim
from ticketdash.ticket import Ticket, from_record

logger = logging.getLogger(__name__)

TICKET_FILE = re.compile(r"^(\d+)\.json$")
HEARTBEAT = "_watcher.json"
TEMP_PREFIX = ".tmp-"
MAX_TICKET_BYTES = 4 * 1024 * 1024  # a ticket's JSON; descriptions are long, but not this long
MAX_STATUS_BYTES = 1024 * 1024  # the heartbeat, the light's status file, a names file
ID_FIELDS = ("requester_id", "responder_id", "group_id", "workspace_id")
DATE_FIELDS = ("due_by", "fr_due_by", "updated_at", "created_at")
STATS_DATES = ("first_responded_at", "agent_responded_at", "requester_responded_at")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp alone gives 0600


class StoreError(Exception):
    """The folder cannot be used (locked by another watcher, not writable)."""


def atomic_write(path: Path, data: bytes, prefix: str = TEMP_PREFIX) -> None:
    """Replace *path* with *data* so that no reader or crash sees a partial file.

    The temporary file's *prefix* names its writer: a watcher starting up removes only its own.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def encode(obj: Any) -> bytes:
    """The on-disk form: stable key order, so unchanged content gives unchanged bytes."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def read_regular(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most *limit*: a FIFO or a device is never opened.

    FileNotFoundError when missing, ValueError when not a regular file or too
    large, OSError when it cannot be read.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError("not a regular file")
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped since the first look
            raise ValueError("not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data


def loads(data: bytes) -> Any:
    """JSON from bytes; ValueError (never RecursionError) for anything that is not sane JSON."""
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deep") from None
    except UnicodeDecodeError:
        raise ValueError("not valid UTF-8") from None


def is_id(value: Any) -> bool:
    """A Freshservice id: a positive integer of sane size (a bool is not one)."""
    return type(value) is int and 0 < value < 2**63


def problem(ticket: Any) -> str | None:
    """Why *ticket* cannot be shown safely, or None: the one check for the writer and the readers."""
    if not isinstance(ticket, dict):
        return "not a ticket object"
    if not is_id(ticket.get("id")):
        return "the id is not a positive integer"
    if type(ticket.get("status")) is not int:
        return "status is not a number"
    priority = ticket.get("priority")
    if priority is not None and type(priority) is not int:
        return "priority is not a number"
    for name in ("type", "subject", "description_text"):
        if ticket.get(name) is not None and not isinstance(ticket[name], str):
            return f"{name} is not text"
    for name in ID_FIELDS:
        if ticket.get(name) is not None and not is_id(ticket[name]):
            return f"{name} is not an id"
    stats = ticket.get("stats")
    if stats is not None and not isinstance(stats, dict):
        return "stats is not an object"
    dates = [(name, ticket.get(name)) for name in DATE_FIELDS]
    dates += [(f"stats.{name}", (stats or {}).get(name)) for name in STATS_DATES]
    for name, value in dates:
        if value is not None and timefmt.parse(value) is None:
            return f"{name} is not a date: {str(value)[:40]!r}"
    return None


def decode_ticket(data: bytes) -> dict[str, Any]:
    """A ticket from a file's bytes; ValueError for anything that is not one that can be shown."""
    ticket = loads(data)
    why = problem(ticket)
    if why:
        raise ValueError(why)
    return ticket


@dataclass
class Snapshot:
    """What a reader found: parsed tickets, and the files it could not read."""

    tickets: dict[int, Ticket] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class TicketStore:
    def __init__(self, folder: Path, helpdesk: str = "") -> None:
        self.folder = Path(folder)
        self.helpdesk = helpdesk  # the label its tickets carry on a wall of several helpdesks
        self.names_dir = self.folder / "_names"
        self.archive_dir = self.folder / "archive"
        self._claim: socket.socket | None = None

    # -- the writer's side (the watcher) ---------------------------------

    def lock(self) -> None:
        """Claim the folder for this process; StoreError if another watcher has it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._claim = claim("watcher", str(self.folder.resolve()))
        except Taken as error:
            raise StoreError(str(error)) from None
        self._remove_temp_files()

    def unlock(self) -> None:
        if self._claim is not None:
            self._claim.close()
            self._claim = None

    def _remove_temp_files(self) -> None:
        """Leftovers of a writer killed mid-write, anywhere in the folder (only safe while holding the lock)."""
        for path in self.folder.rglob(TEMP_PREFIX + "*"):
            if path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)

    def prune_archive(self, before: date) -> int:
        """Remove the archive's days before *before*; how many went."""
        removed = 0
        for day in sorted(self.archive_dir.glob("????-??-??")):
            try:
                old = date.fromisoformat(day.name) < before
            except ValueError:
                continue
            if old and day.is_dir() and not day.is_symlink():
                shutil.rmtree(day)
                removed += 1
        return removed

    def read_raw(self) -> dict[int, bytes]:
        """The bytes of every active ticket file, by id (the watcher's starting point)."""
        found = {}
        for entry in os.scandir(self.folder):
            match = TICKET_FILE.match(entry.name)
            if match:
                try:
                    found[int(match.group(1))] = read_regular(Path(entry.path), MAX_TICKET_BYTES)
                except (OSError, ValueError) as error:
                    logger.warning("cannot read %s: %s", entry.path, error)
        return found

    def write_ticket(self, ticket_id: int, data: bytes) -> None:
        atomic_write(self.folder / f"{ticket_id}.json", data)

    def archive(self, ticket_id: int, data: bytes, day: date) -> None:
        """File the last known content under the day it left, then drop the active file."""
        folder = self.archive_dir / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"{ticket_id}.json", data)
        (self.folder / f"{ticket_id}.json").unlink(missing_ok=True)

    def write_heartbeat(self, heartbeat: dict[str, Any]) -> None:
        atomic_write(self.folder / HEARTBEAT, encode(heartbeat))

    # -- the readers' side (dashboard, light) ----------------------------

    def read_heartbeat(self) -> dict[str, Any] | None:
        """The heartbeat, None when there is none yet; ValueError when it is unreadable."""
        return self.read_json(self.folder / HEARTBEAT)

    @staticmethod
    def read_json(path: Path) -> dict[str, Any] | None:
        """A small status file: None when missing, ValueError when unreadable."""
        try:
            data = loads(read_regular(path, MAX_STATUS_BYTES))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ValueError(f"{path.name}: {error}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: not an object")
        return data

    def read_ticket(self, path: Path) -> Ticket:
        """One ticket file as the model every reader uses; ValueError or OSError when it cannot be used."""
        try:
            return from_record(decode_ticket(read_regular(path, MAX_TICKET_BYTES)), self.helpdesk)
        except OverflowError:
            raise ValueError("a date is out of range") from None

    def snapshot(self) -> Snapshot:
        """Every active ticket; unreadable files are reported, never fatal."""
        snap = Snapshot()
        for entry in os.scandir(self.folder):
            if TICKET_FILE.match(entry.name):
                try:
                    ticket = self.read_ticket(Path(entry.path))
                    snap.tickets[ticket.id] = ticket
                except (OSError, ValueError) as error:
                    snap.errors[entry.name] = str(error)
        return snap
