"""The daemon kit: one owner per resource, a loop that outlives a failing turn, status files."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from ticketdash import daemon
from ticketdash.daemon import WakeLoop, write_status
from ticketdash.owner import Taken, claim
from ticketdash.store import TicketStore


def test_a_resource_has_one_owner_until_it_lets_go() -> None:
    first = claim("blinky", "the light 1-2:1.0")
    try:
        with pytest.raises(Taken, match="another blinky is already running on the light 1-2:1.0"):
            claim("blinky", "the light 1-2:1.0")
        claim("blinky", "the light 1-3:1.0").close()  # another light is another resource
    finally:
        first.close()
    claim("blinky", "the light 1-2:1.0").close()


def test_a_turn_that_raises_is_logged_and_the_loop_goes_on(monkeypatch, caplog) -> None:
    monkeypatch.setattr(daemon, "RETRY_SECONDS", 0.01)

    class Flaky(WakeLoop):
        def __init__(self) -> None:
            super().__init__(settle_seconds=0)
            self.turns = 0

        def turn(self) -> float:
            self.turns += 1
            if self.turns == 1:
                raise RuntimeError("a bug in one turn")
            if self.turns == 3:
                self.stop()
            return 60.0 if self.turns == 2 else 0.0

    loop = Flaky()
    waker = threading.Timer(0.05, loop.wake)  # the second turn waits a minute unless woken
    waker.start()
    with caplog.at_level(logging.ERROR):
        loop.run()
    waker.join()
    assert loop.turns == 3
    assert "Flaky failed; trying again shortly" in caplog.text and "a bug in one turn" in caplog.text


def test_a_watcher_starting_up_removes_only_its_own_temporary_files(tmp_path: Path) -> None:
    folder = tmp_path / "tickets"
    write_status(folder / "_light.json", {"state": "clear"})
    (folder / ".tmp-0001.part").write_text("{")  # a watcher killed mid-write
    (folder / f"{daemon.STATUS_PREFIX}0002.part").write_text("{")  # blinky, writing its status right now
    store = TicketStore(folder)
    store.lock()
    store.unlock()
    assert not (folder / ".tmp-0001.part").exists()
    assert (folder / f"{daemon.STATUS_PREFIX}0002.part").exists()
    assert (folder / "_light.json").read_text() == '{"state":"clear"}'


def test_a_status_file_that_cannot_be_written_is_a_warning(tmp_path: Path, caplog) -> None:
    (tmp_path / "file").write_text("")
    with caplog.at_level(logging.WARNING):
        write_status(tmp_path / "file" / "status.json", {"state": "clear"})
    assert "cannot write the status file" in caplog.text
