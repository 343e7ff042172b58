"""The tickets/ folder format: atomic files, archive, heartbeat, lock; and the name files."""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path

import pytest

from ticketdash import names
from ticketdash.store import StoreError, TicketStore, encode


def test_writes_are_atomic_under_a_concurrent_reader(tmp_path: Path) -> None:
    store = TicketStore(tmp_path)
    big = {"id": 1, "description_text": "x" * 500_000}
    store.write_ticket(1, encode(big))
    stop = threading.Event()
    bad = []

    def read() -> None:
        while not stop.is_set():
            try:
                json.loads((tmp_path / "1.json").read_bytes())
            except ValueError as error:
                bad.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(60):
        store.write_ticket(1, encode({**big, "n": n}))
    stop.set()
    reader.join()
    assert bad == []
    assert [p.name for p in tmp_path.iterdir()] == ["1.json"]  # no temporary file left


def test_snapshot_skips_and_reports_unreadable_files(tmp_path: Path) -> None:
    store = TicketStore(tmp_path)
    store.write_ticket(1, encode({"id": 1, "status": 2}))
    (tmp_path / "2.json").write_text('{"id": 2, "subj')
    (tmp_path / "3.json").write_text('["not", "a", "ticket"]')
    (tmp_path / "_watcher.json").write_text("{}")
    (tmp_path / "notes.json").write_text("not a ticket file at all")
    snap = store.snapshot()
    assert list(snap.tickets) == [1]
    assert set(snap.errors) == {"2.json", "3.json"}


def test_archive_files_by_day_and_drops_the_active_file(tmp_path: Path) -> None:
    store = TicketStore(tmp_path)
    store.write_ticket(5, encode({"id": 5, "status": 2}))
    store.archive(5, encode({"id": 5, "status": 4}), date(2026, 1, 2))
    assert not (tmp_path / "5.json").exists()
    assert json.loads((tmp_path / "archive" / "2026-01-02" / "5.json").read_text())["status"] == 4


def test_heartbeat_round_trip_and_unreadable(tmp_path: Path) -> None:
    store = TicketStore(tmp_path)
    assert store.read_heartbeat() is None
    store.write_heartbeat({"last_error": None})
    assert store.read_heartbeat() == {"last_error": None}
    (tmp_path / "_watcher.json").write_text("{half")
    with pytest.raises(ValueError):
        store.read_heartbeat()


def test_one_writer_per_folder(tmp_path: Path) -> None:
    first, second = TicketStore(tmp_path), TicketStore(tmp_path)
    first.lock()
    with pytest.raises(StoreError, match="another watcher is already running"):
        second.lock()
    first.unlock()
    second.lock()
    second.unlock()


def test_name_files(tmp_path: Path) -> None:
    text = "# comment\n1:Ada Lovelace\n\n2: Grace Hopper \nnot a line\nx:Bad id\n3:\n4:Name: with colon\n"
    assert names.parse(text) == {1: "Ada Lovelace", 2: "Grace Hopper", 4: "Name: with colon"}
    assert names.write_discovered(tmp_path, "agents", {2: "B", 1: "A"}) is True
    assert names.write_discovered(tmp_path, "agents", {1: "A", 2: "B"}) is False  # unchanged: not rewritten
    assert names.read_file(tmp_path / "agents.txt") == {1: "A", 2: "B"}
    assert names.load(tmp_path, tmp_path / "nothing")["statuses"][2] == "Open"


def test_files_follow_the_umask_like_any_write(tmp_path: Path) -> None:
    from ticketdash import store

    TicketStore(tmp_path).write_ticket(1, encode({"id": 1}))
    (tmp_path / "plain").write_text("x")
    assert (tmp_path / "1.json").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777
    assert store.FILE_MODE & 0o044  # readable by the dashboard's and the light's group
