"""The in-memory folder: events, the rescan safety net, a dead observer, the light's status file."""

from __future__ import annotations

import json
from pathlib import Path

from ticketdash.live import LiveFolder
from ticketdash.store import TicketStore, atomic_write
from tests.helpers import put_ticket, ticket, wait_for, write_heartbeat


def live(tmp_path: Path, **kw) -> LiveFolder:
    folder = tmp_path / "tickets"
    folder.mkdir(exist_ok=True)
    write_heartbeat(folder)
    changes = []
    lf = LiveFolder(TicketStore(folder), tmp_path / "config", status_files={"light": folder / "_light.json"},
                    on_change=lambda: changes.append(1), **kw)
    lf.changes = changes  # type: ignore[attr-defined]
    return lf


def test_events_update_the_view(tmp_path: Path) -> None:
    lf = live(tmp_path, rescan_seconds=3600)
    lf.start()
    try:
        put_ticket(lf.store.folder, ticket(1, subject="first"))
        wait_for(lambda: 1 in lf.view().entries, what="the new ticket")
        put_ticket(lf.store.folder, ticket(1, subject="second"))
        wait_for(lambda: lf.view().entries[1].subject == "second", what="the change")
        (lf.store.folder / "1.json").unlink()
        wait_for(lambda: 1 not in lf.view().entries, what="the removal")
        (lf.store.folder / "_light.json").write_text(json.dumps({"state": "warning"}))
        wait_for(lambda: (lf.view().light or {}).get("state") == "warning", what="the light's status")
        assert lf.changes
    finally:
        lf.stop()


def test_a_dead_observer_is_restarted_and_the_rescan_catches_up(tmp_path: Path) -> None:
    lf = live(tmp_path, rescan_seconds=0.3)
    lf.start()
    try:
        dead = lf.observer
        dead.stop()
        dead.join()
        put_ticket(lf.store.folder, ticket(7))  # no observer to see this: the rescan must
        wait_for(lambda: 7 in lf.view().entries, what="the rescan")
        wait_for(lambda: lf.observer is not dead and lf.observer.is_alive(), what="a new observer")
    finally:
        lf.stop()


def test_a_failing_callback_does_not_stop_events(tmp_path: Path) -> None:
    folder = tmp_path / "tickets"
    folder.mkdir()

    def explode() -> None:
        raise RuntimeError("boom")

    lf = LiveFolder(TicketStore(folder), tmp_path, rescan_seconds=3600, on_change=explode)
    lf.start()
    try:
        put_ticket(folder, ticket(1))
        wait_for(lambda: 1 in lf.view().entries, what="the first ticket")
        put_ticket(folder, ticket(2))
        wait_for(lambda: 2 in lf.view().entries, what="the second ticket, after a failed callback")
    finally:
        lf.stop()


def test_a_status_file_outside_the_folder_is_watched_too(tmp_path: Path) -> None:
    folder = tmp_path / "tickets"
    folder.mkdir()
    (tmp_path / "run").mkdir()
    lf = LiveFolder(TicketStore(folder), tmp_path, status_files={"light": tmp_path / "run" / "light.json"},
                    rescan_seconds=3600)
    lf.start()
    try:
        (tmp_path / "run" / "light.json").write_text(json.dumps({"state": "critical"}))
        wait_for(lambda: (lf.view().light or {}).get("state") == "critical", what="the light file's change")
    finally:
        lf.stop()


def test_reading_files_does_not_feed_back_into_more_reads(tmp_path: Path) -> None:
    lf = live(tmp_path, rescan_seconds=3600)
    names = lf.store.names_dir
    names.mkdir()
    (names / "agents.txt").write_text("1:Ada\n")
    reads = []
    original = lf._load_names
    lf._load_names = lambda: (reads.append(1), original())[1]  # type: ignore[method-assign]
    lf.start()
    try:
        # Replaced whole, as the watcher writes it: a truncating write gives events that may arrive
        # after its new content is already seen, and would count as re-reads here.
        atomic_write(names / "agents.txt", b"1:Ada Lovelace\n")
        wait_for(lambda: lf.view().names["agents"].get(1) == "Ada Lovelace", what="the name change")
        settled = len(reads)
        write_heartbeat(lf.store.folder)
        put_ticket(lf.store.folder, ticket(99))  # events come in order: once this is seen, a loop would show
        wait_for(lambda: 99 in lf.view().entries and lf.view().heartbeat is not None, what="the sentinel ticket")
        assert len(reads) - settled <= 1, f"{len(reads) - settled} re-reads of the names after nothing changed"
    finally:
        lf.stop()


def test_a_ticket_written_while_the_folder_is_first_read_is_seen(tmp_path: Path) -> None:
    """The watcher writes while a reader starts: nothing may wait for the next full re-read (minutes)."""
    folder = tmp_path / "tickets"
    folder.mkdir()
    put_ticket(folder, ticket(1))

    class Starting(LiveFolder):
        written = False

        def rescan(self) -> None:
            super().rescan()
            if not self.written:  # just after the first read, before anything else happens
                self.written = True
                put_ticket(folder, ticket(2))

    lf = Starting(TicketStore(folder), tmp_path, rescan_seconds=3600)
    lf.start()
    try:
        wait_for(lambda: set(lf.view().entries) == {1, 2}, timeout=5, what="the ticket written during the first read")
    finally:
        lf.stop()
