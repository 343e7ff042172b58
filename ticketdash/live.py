"""The tickets/ folder kept in memory, for readers that must not re-read it per request.

Files are parsed once, when they change: watchdog events say which, and a
periodic rescan (comparing each file's stat) is the safety net for missed
events and a dead observer, which it restarts. A file that cannot be read is
reported in ``errors``; its last good content is kept, so one corrupt file
never blanks the board (the board state becomes ``error`` instead).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ticketdash import names
from ticketdash.config import Config
from ticketdash.store import HEARTBEAT, TICKET_FILE, TicketStore
from ticketdash.ticket import Ticket

logger = logging.getLogger(__name__)

CHANGES = frozenset({"created", "modified", "moved", "deleted", "closed"})


@dataclass(frozen=True)
class FolderView:
    """A consistent copy of what the folder held at one moment."""

    version: int
    entries: dict[int, Ticket]
    errors: dict[str, str]
    heartbeat: dict[str, Any] | None
    heartbeat_error: str | None
    names: dict[str, names.Names]
    statuses: dict[str, dict[str, Any] | None]  # the other daemons' status files, by name ("light", "alerts")
    helpdesk: str = ""  # the folder's label on a wall of several helpdesks

    @property
    def light(self) -> dict[str, Any] | None:
        return self.statuses.get("light")


@dataclass
class _State:
    entries: dict[int, Ticket] = field(default_factory=dict)
    stats: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    heartbeat: dict[str, Any] | None = None
    heartbeat_error: str | None = None
    names: dict[str, names.Names] = field(default_factory=dict)
    statuses: dict[str, dict[str, Any] | None] = field(default_factory=dict)


class LiveFolder(FileSystemEventHandler):
    def __init__(self, store: TicketStore, person_names: Path, status_files: dict[str, Path] | None = None,
                 rescan_seconds: float = 30.0, on_change: Callable[[], None] | None = None) -> None:
        self.store = store
        self.person_names = person_names
        self.status_files = status_files or {}
        self.rescan_seconds = rescan_seconds
        self.on_change = on_change
        self.lock = threading.RLock()
        self.state = _State()
        self.version = 0
        self.stopping = threading.Event()
        self.observer: Any = None
        self.thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------

    def start(self) -> None:
        self.store.folder.mkdir(parents=True, exist_ok=True)
        self._start_observer()  # first: a file written during the first read is an event, not a wait for the next
        self.rescan()
        self.thread = threading.Thread(target=self._rescan_loop, name="rescan", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.thread is not None:
            self.thread.join(timeout=5)

    def _start_observer(self) -> None:
        observer = Observer()
        observer.schedule(self, str(self.store.folder), recursive=True)
        observer.daemon = True
        observer.start()
        self.observer = observer
        self.watched: set[Path] = set()
        self._watch_status_folders()

    def _watch_status_folders(self) -> None:
        """Another daemon's own folder (e.g. under /run, or the dashboard's), once it exists: a reader
        may start before the daemon that makes it."""
        for folder in {path.parent for path in self.status_files.values()} - self.watched:
            if folder.is_dir() and self.store.folder not in (folder, *folder.parents):
                self.observer.schedule(self, str(folder), recursive=False)
                self.watched.add(folder)

    def _rescan_loop(self) -> None:
        while not self.stopping.wait(self.rescan_seconds):
            try:
                if not self.observer.is_alive():
                    logger.warning("the file observer died; restarting it")
                    self._start_observer()
                self._watch_status_folders()
                self.rescan()
            except Exception:
                logger.exception("rescan failed; trying again in %g s", self.rescan_seconds)

    # -- reading ---------------------------------------------------------

    def view(self) -> FolderView:
        with self.lock:
            s = self.state
            return FolderView(self.version, dict(s.entries), dict(s.errors), s.heartbeat, s.heartbeat_error,
                              s.names, dict(s.statuses), self.store.helpdesk)

    def rescan(self) -> None:
        """Re-read whatever changed since the last look, by stat; drop what is gone."""
        seen = set()
        for entry in os.scandir(self.store.folder):
            match = TICKET_FILE.match(entry.name)
            if match:
                ticket_id = int(match.group(1))
                seen.add(ticket_id)
                self._load_ticket(Path(entry.path), ticket_id)
        with self.lock:
            for ticket_id in set(self.state.stats) - seen:
                self._forget(ticket_id)
        self._load_heartbeat()
        self._load_names()
        for name in self.status_files:
            self._load_status(name)

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Never raises: an exception here would end event delivery for good."""
        try:
            # Only changes: reacting to "opened"/"closed_no_write" would feed on our own reads.
            if event.is_directory or event.event_type not in CHANGES:
                return
            for raw in (event.src_path, getattr(event, "dest_path", "")):
                if raw:
                    self._changed(Path(os.fsdecode(raw)))
        except Exception:
            logger.exception("handling %s failed", event)

    def _changed(self, path: Path) -> None:
        if path.parent == self.store.folder:
            match = TICKET_FILE.match(path.name)
            if match:
                self._load_ticket(path, int(match.group(1)))
            elif path.name == HEARTBEAT:
                self._load_heartbeat()
        elif path.parent == self.store.names_dir and path.suffix == ".txt":  # not a writer's temporary file
            self._load_names()
        for name, status_file in self.status_files.items():
            if path == status_file:
                self._load_status(name)

    def _bump(self) -> None:
        self.version += 1
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:
                logger.exception("change callback failed")

    def _forget(self, ticket_id: int) -> None:
        with self.lock:
            self.state.entries.pop(ticket_id, None)
            self.state.stats.pop(ticket_id, None)
            self.state.errors.pop(f"{ticket_id}.json", None)
            self._bump()

    def _load_ticket(self, path: Path, ticket_id: int) -> None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if ticket_id in self.state.stats:
                self._forget(ticket_id)
            return
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self.state.stats.get(ticket_id) == key:
            return
        try:
            entry, error = self.store.read_ticket(path), None
            if entry.id != ticket_id:
                raise ValueError(f"holds ticket {entry.id}")
        except (OSError, ValueError, OverflowError) as problem:
            entry, error = None, str(problem) or type(problem).__name__
        with self.lock:
            self.state.stats[ticket_id] = key
            if entry is not None:
                self.state.entries[ticket_id] = entry
                self.state.errors.pop(path.name, None)
            else:
                logger.warning("cannot read %s: %s", path, error)
                self.state.errors[path.name] = error
            self._bump()

    def _load_heartbeat(self) -> None:
        try:
            heartbeat, error = self.store.read_heartbeat(), None
        except ValueError as problem:
            heartbeat, error = None, str(problem)
        with self.lock:
            if (heartbeat, error) != (self.state.heartbeat, self.state.heartbeat_error):
                self.state.heartbeat, self.state.heartbeat_error = heartbeat, error
                self._bump()

    def _load_names(self) -> None:
        loaded = names.load(self.store.names_dir, self.person_names)
        with self.lock:
            if loaded != self.state.names:
                self.state.names = loaded
                self._bump()

    def reload_status(self, name: str) -> None:
        if name in self.status_files:
            self._load_status(name)

    def _load_status(self, name: str) -> None:
        try:
            status = TicketStore.read_json(self.status_files[name])
        except ValueError:
            status = None
        with self.lock:
            if status != self.state.statuses.get(name):
                self.state.statuses[name] = status
                self._bump()


class Folders:
    """Every helpdesk folder a reader follows, kept live and seen as one (``[helpdesks]``, or the one
    folder of ``[paths] tickets``). The other daemons' status files are watched with the first."""

    def __init__(self, config: Config, rescan_seconds: float, status_files: dict[str, Path] | None = None) -> None:
        self.folders = [
            LiveFolder(TicketStore(folder, name), config.paths.names, status_files if number == 0 else None,
                       rescan_seconds=rescan_seconds)
            for number, (name, folder) in enumerate(config.folders.items())
        ]

    @property
    def stores(self) -> list[TicketStore]:
        return [f.store for f in self.folders]

    @property
    def version(self) -> int:
        """Grows whenever any folder changes."""
        return sum(f.version for f in self.folders)

    @property
    def on_change(self) -> Callable[[], None] | None:
        return self.folders[0].on_change

    @on_change.setter
    def on_change(self, callback: Callable[[], None] | None) -> None:
        for folder in self.folders:
            folder.on_change = callback

    def start(self) -> None:
        for folder in self.folders:
            folder.start()

    def rescan(self) -> None:
        for folder in self.folders:
            folder.rescan()

    def reload_status(self, name: str) -> None:
        """Read one status file now (its writer just changed it), not waiting for its file event."""
        self.folders[0].reload_status(name)

    def stop(self) -> None:
        for folder in self.folders:
            folder.stop()

    def view(self) -> list[FolderView]:
        return [f.view() for f in self.folders]
