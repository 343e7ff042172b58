"""Several helpdesks on one wall, and one helpdesk described by three products giving one board."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ticketdash import config as configuration
from ticketdash.board import BoardRules, Judge
from ticketdash.settings import WatcherSettings
from ticketdash.secrets import Secret
from ticketdash.live import Folders
from ticketdash.store import TicketStore
from tests.helpers import iso_in, put_ticket, run_module, ticket, write_config, write_heartbeat
from tests.fakefs import FakeFreshservice, iso
from tests.fakehelpdesks import FakeFreshdesk, FakeZendesk
from tests.test_alerts import step
from watcher.client import ApiClient
from watcher.sources.freshdesk import FreshdeskSource
from watcher.sources.freshservice import FreshserviceSource
from watcher.sources.zendesk import ZendeskSource
from watcher.sync import Syncer


def two_helpdesks(root: Path, **sections: dict[str, Any]) -> Path:
    for name in ("acme", "globex"):
        (root / f"tickets-{name}").mkdir(parents=True)
        write_heartbeat(root / f"tickets-{name}", ticket_link=f"https://{name}.freshservice.com/a/tickets/{{id}}")
    base = {"helpdesks": {"acme": "../tickets-acme", "globex": "../tickets-globex"},
            "blinky": {"device": "simulated", "status_file": "../light.json"}}
    for section, values in sections.items():
        base.setdefault(section, {}).update(values)
    return write_config(root / "config", base, token=None)


def board_of(config_path: Path) -> tuple[Any, dict[str, Any]]:
    from gui import create_app

    app = create_app(configuration.load(config_path, environ={}))
    client = app.test_client()
    try:
        return client.get("/healthz"), client.get("/api/board").get_json()
    finally:
        app.extensions["ticketdash"].folder.stop()


def rows(board: dict[str, Any]) -> list[tuple[str | None, int, str]]:
    return [(t["helpdesk"], t["id"], t["state"]) for s in board["sections"] for t in s["tickets"]]


def test_two_helpdesks_with_a_colliding_id_show_both(tmp_path: Path) -> None:
    config = two_helpdesks(tmp_path)
    put_ticket(tmp_path / "tickets-acme", ticket(42, subject="Acme printer", due_by=iso_in(minutes=-5),
                                                 stats={"first_responded_at": iso_in(hours=-2)}))
    put_ticket(tmp_path / "tickets-globex", ticket(42, subject="Globex VPN"))
    health, board = board_of(config)
    assert health.status_code == 200
    assert sorted(rows(board)) == [("acme", 42, "overdue"), ("globex", 42, "ok")]
    urls = {t["helpdesk"]: t["url"] for s in board["sections"] for t in s["tickets"]}
    assert urls == {"acme": "https://acme.freshservice.com/a/tickets/42",
                    "globex": "https://globex.freshservice.com/a/tickets/42"}
    assert board["worst"] == "overdue" and board["oldest_breach"]["helpdesk"] == "acme"


def test_one_stale_helpdesk_makes_the_board_stale_and_says_which(tmp_path: Path) -> None:
    config = two_helpdesks(tmp_path)
    put_ticket(tmp_path / "tickets-acme", ticket(1))
    put_ticket(tmp_path / "tickets-globex", ticket(1))
    write_heartbeat(tmp_path / "tickets-globex", last_success_at=iso_in(hours=-2))
    health, board = board_of(config)
    assert health.status_code == 503
    assert health.get_json()["status"] == "stale" and "globex" in health.get_json()["reason"]
    assert "acme" not in health.get_json()["reason"]
    assert board["worst"] == "stale" and "globex" in board["health"]["reason"]
    assert {h["name"]: h["status"] for h in board["helpdesks"]} == {"acme": "ok", "globex": "stale"}
    # the desk light agrees
    result = run_module("blinky", "--config", str(config), "--once")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "light.json").read_text())["state"] == "stale"


def test_one_failing_helpdesk_reaches_the_alerts_by_name(tmp_path: Path) -> None:
    from tests.receiver import Receiver
    from tests.test_alerts import Site

    receiver = Receiver()
    try:
        site = Site(tmp_path, receiver)
        for name in ("acme", "globex"):
            (tmp_path / f"tickets-{name}").mkdir()
            write_heartbeat(tmp_path / f"tickets-{name}")
        put_ticket(tmp_path / "tickets-acme", ticket(7, subject="Mail down", due_by=iso_in(minutes=-1),
                                                     stats={"first_responded_at": iso_in(hours=-1)}))
        put_ticket(tmp_path / "tickets-globex", ticket(7, subject="Phones down", due_by=iso_in(minutes=-1),
                                                       stats={"first_responded_at": iso_in(hours=-1)}))
        path = site.config_file([{"urls": [receiver.url()], "states": ["overdue", "error"]}])
        with path.open("a") as f:
            f.write('\n[helpdesks]\nacme = "../tickets-acme"\nglobex = "../tickets-globex"\n')
        from alerts.daemon import Alerts
        from alerts.state import State

        config = configuration.load(path, environ={})
        daemon = Alerts(config, State(config.alerts.database))
        daemon.start(watch=False)
        site.running.append(daemon)
        step(daemon)
        titles = sorted(m["title"] for m in receiver.messages())
        assert titles == ["acme #7 Overdue: Mail down", "globex #7 Overdue: Phones down"]
        write_heartbeat(tmp_path / "tickets-globex", last_error="Freshservice rejected the API key (401)")
        step(daemon)
        (blind,) = receiver.messages()[2:]
        assert "globex" in blind["message"] and "acme" not in blind["message"]
        site.close()
    finally:
        receiver.close()


@pytest.mark.parametrize("helpdesks, expected", [
    ({"acme_1": "../t"}, "[helpdesks] acme_1: a helpdesk's name is up to 20 letters, digits and '-'"),
    ({"acme": 3}, "[helpdesks] acme: expected the path of its tickets folder"),
    ({"acme": "../t", "again": "../t"}, "[helpdesks] again: another helpdesk already reads"),
])
def test_bad_helpdesks_name_the_key(tmp_path: Path, helpdesks: dict, expected: str) -> None:
    path = write_config(tmp_path, {"helpdesks": helpdesks}, token=None)
    with pytest.raises(configuration.ConfigError) as error:
        configuration.load(path, environ={})
    assert str(path) in str(error.value) and expected in str(error.value)


def test_a_view_can_select_helpdesks(tmp_path: Path) -> None:
    config = two_helpdesks(tmp_path, **{"views.globex": {"helpdesks": ["globex"]}})
    put_ticket(tmp_path / "tickets-acme", ticket(1))
    put_ticket(tmp_path / "tickets-globex", ticket(2))
    from gui import create_app

    app = create_app(configuration.load(config, environ={}))
    try:
        board = app.test_client().get("/api/board?view=globex").get_json()
        assert rows(board) == [("globex", 2, "ok")]
    finally:
        app.extensions["ticketdash"].folder.stop()
    bad = write_config(tmp_path / "bad", {"views": {}, "views.x": {"helpdesks": ["initech"]}}, token=None)
    with pytest.raises(configuration.ConfigError, match=r"\[views.x\] helpdesks: no helpdesk 'initech'"):
        configuration.load(bad, environ={})


# -- one helpdesk, three products, one board -----------------------------------

NOW = datetime.now(timezone.utc)
H = timedelta(hours=1)
# (id, first response due, first responded, due, paused): a breach, a first-response breach, a warning,
# a critical first response, a paused ticket and one on track.
CASES = [(1, None, True, -H, False), (2, -H, False, 30 * H, False), (3, None, True, 8 * H, False),
         (4, 2 * H, False, 40 * H, False), (5, None, True, 2 * H, True), (6, None, True, 60 * H, False)]


def test_one_helpdesk_in_three_shapes_gives_the_same_board(tmp_path: Path) -> None:
    fs, fd, zd = FakeFreshservice(api_key="k-1234567890"), FakeFreshdesk(), FakeZendesk(export_per_minute=1000)
    boards = []
    for fake in (fs, fd, zd):
        fake.start()
    try:
        for n, fr, responded, due, paused in CASES:
            stamp = iso(NOW - timedelta(minutes=30 + n))
            fr_due = NOW + fr if fr is not None else NOW - 5 * H
            stats = {"first_responded_at": stamp if responded else None, "agent_responded_at": stamp if responded else None}
            common = {"id": n, "priority": 2, "created_at": stamp, "updated_at": stamp, "subject": f"Case {n}"}
            fs.add_ticket(**common, status=3 if paused else 2, type="Incident", fr_due_by=iso(fr_due),
                          due_by=iso(NOW + due), stats=stats)
            fd.add_ticket(**common, status=3 if paused else 2, type="Incident", fr_due_by=iso(fr_due),
                          due_by=iso(NOW + due), stats=stats)
            zd.add_ticket(**{**common, "priority": "normal"}, status="pending" if paused else "open",
                          fr_due=None if responded else fr_due, due=NOW + due)
        sources = [
            FreshserviceSource(_client(fs, fs.api_key), []),
            FreshdeskSource(_client(fd, fd.api_key, "Freshdesk"), ""),
            ZendeskSource(_client(zd, zd.api_key, "Zendesk", f"{zd.email}/token"), "", sleep=lambda s: None),
        ]
        for number, source in enumerate(sources):
            store = TicketStore(tmp_path / f"t{number}")
            store.folder.mkdir()
            (tmp_path / "names").mkdir(exist_ok=True)
            Syncer(source, store, WatcherSettings(), tmp_path / "names").cycle()
            write_heartbeat(store.folder)
            config = configuration.load(write_config(tmp_path / f"c{number}", {"paths": {"tickets": f"../t{number}"}},
                                                     token=None), environ={})
            folders = Folders(config, 60)
            folders.rescan()
            verdict = Judge(BoardRules.from_config(config)).verdict(folders.view(), NOW)
            boards.append([(key, [(r.id, r.state) for r in rows]) for key, rows in verdict.sections.items()])
    finally:
        for fake in (fs, fd, zd):
            fake.stop()
    assert boards[0] == boards[1] == boards[2]
    states = dict(r for _, section in boards[0] for r in section)
    assert states == {1: "overdue", 2: "fr_overdue", 3: "warning", 4: "critical", 5: "paused", 6: "ok"}


def _client(fake: Any, key: str, product: str = "Freshservice", user: str | None = None) -> ApiClient:
    return ApiClient(fake.url + "/api/v2", Secret(key), product=product, user=user, max_retries=0,
                     sleep=lambda s: None)


@pytest.mark.parametrize("damage, status", [("missing", "stale"), ("corrupt", "error")])
def test_a_helpdesk_whose_watcher_never_ran_or_left_a_corrupt_heartbeat_is_doubt_by_name(tmp_path: Path,
                                                                                        damage: str,
                                                                                        status: str) -> None:
    config = two_helpdesks(tmp_path)
    put_ticket(tmp_path / "tickets-acme", ticket(1))
    beat = tmp_path / "tickets-globex" / "_watcher.json"
    if damage == "missing":
        beat.unlink()
    else:
        beat.write_text('{"last_success_at": ' * 50_000)  # cut off and nested deep
    health, board = board_of(config)
    assert health.status_code == 503 and health.get_json()["status"] == status
    assert "globex" in health.get_json()["reason"] and board["worst"] == status
    result = run_module("blinky", "--config", str(config), "--once")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "light.json").read_text())["state"] == status
