"""The sync engine against the fake Freshservice: complete, incremental, nothing lost."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ticketdash import names
from ticketdash.settings import WatcherSettings
from ticketdash.secrets import Secret
from ticketdash.store import TicketStore
from tests.helpers import KEY
from tests.fakefs import FakeFreshservice, iso
from watcher.client import ApiClient
from watcher.transport import SourceError
from watcher.sources.freshservice import FreshserviceSource
from watcher.sync import Syncer

NOW = datetime.now(timezone.utc)


def make_syncer(fake: FakeFreshservice, tmp_path: Path, **settings: object) -> Syncer:
    options = {"max_retries": 2, **settings}
    client = ApiClient(fake.base_url + "/api/v2", Secret(KEY), timeout=2, backoff=0.01,
                       max_retries=int(options.pop("max_retries")), sleep=lambda s: None,
                       max_calls_per_minute=int(options.get("max_calls_per_minute", 40)))
    watcher = WatcherSettings(**options)  # type: ignore[arg-type]
    store = TicketStore(tmp_path / "tickets")
    store.folder.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config").mkdir(exist_ok=True)
    return Syncer(FreshserviceSource(client, watcher.workspace_ids), store, watcher, tmp_path / "config")


def on_disk(syncer: Syncer) -> set[int]:
    return {int(p.stem) for p in syncer.store.folder.glob("*.json") if p.stem.isdigit()}


def archived(syncer: Syncer) -> dict[int, dict]:
    return {int(p.stem): json.loads(p.read_text()) for p in syncer.store.archive_dir.glob("*/*.json")}


def test_first_sync_finds_every_active_ticket_including_old_ones(fake: FakeFreshservice, tmp_path: Path) -> None:
    fake.add_ticket(id=1)  # new
    fake.add_ticket(id=2, created_at=iso(NOW - timedelta(days=200)), updated_at=iso(NOW - timedelta(days=90)))
    fake.add_ticket(id=3, status=4)  # resolved
    fake.add_ticket(id=4, type="Service Request", status=6)  # custom status, still active
    fake.add_ticket(id=5, type="Alert")  # not a configured type
    fake.add_ticket(id=6, deleted=True)
    fake.add_ticket(id=7, spam=True)
    syncer = make_syncer(fake, tmp_path)
    result = syncer.cycle()
    assert on_disk(syncer) == {1, 2, 4}
    assert result.full and result.active == 3 and result.written == 3
    for query in fake.calls_to("tickets"):
        assert "updated_since" in query and query["include"] == "stats" and query["per_page"] == "100"
    stored = json.loads((syncer.store.folder / "2.json").read_text())
    assert stored == fake.tickets[2]  # the ticket as the API returns it, stats included


def test_workspaces(fake: FakeFreshservice, tmp_path: Path) -> None:
    fake.add_ticket(id=1, workspace_id=2)
    fake.add_ticket(id=2, workspace_id=3)
    assert on_disk(_cycled(make_syncer(fake, tmp_path / "a"))) == {1}
    assert on_disk(_cycled(make_syncer(fake, tmp_path / "b", workspace_ids=[0]))) == {1, 2}
    assert on_disk(_cycled(make_syncer(fake, tmp_path / "c", workspace_ids=[2, 3]))) == {1, 2}


def _cycled(syncer: Syncer) -> Syncer:
    syncer.cycle()
    return syncer


def test_incremental_cycles_are_cheap_and_overlap_the_cursor(fake: FakeFreshservice, tmp_path: Path) -> None:
    for n in range(1, 41):
        fake.add_ticket(id=n, updated_at=iso(NOW - timedelta(hours=2)))
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    fake.requests.clear()
    idle = syncer.cycle()
    assert not idle.full and idle.calls == 1 and idle.written == 0
    (query,) = fake.calls_to("tickets")
    newest = max(t["updated_at"] for t in fake.tickets.values())
    expected = datetime.fromisoformat(newest.replace("Z", "+00:00")) - timedelta(seconds=300)
    assert query["updated_since"] == iso(expected)  # the cursor is the API's time, minus the overlap

    for n in range(1, 6):
        fake.update_ticket(n, subject=f"changed {n}")
    fake.requests.clear()
    changed = syncer.cycle()
    assert changed.calls == 1 and changed.written == 5
    assert json.loads((syncer.store.folder / "3.json").read_text())["subject"] == "changed 3"
    stamp = fake.calls_to("tickets")[0]["updated_since"]
    assert stamp < fake.tickets[1]["updated_at"]  # overlap: re-reads before the newest change


def test_tickets_that_leave_are_archived_with_their_last_content(fake: FakeFreshservice, tmp_path: Path) -> None:
    for n in range(1, 6):
        fake.add_ticket(id=n)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    fake.update_ticket(1, status=4)
    fake.update_ticket(2, status=5)
    fake.update_ticket(3, type="Alert")
    fake.update_ticket(4, deleted=True)  # vanishes from every list
    result = syncer.cycle()  # incremental: the API positively says 1, 2 and 3 left
    assert on_disk(syncer) == {4, 5} and result.archived == 3
    gone = archived(syncer)
    assert gone[1]["status"] == 4 and gone[2]["status"] == 5
    day = datetime.now(timezone.utc).date().isoformat()
    assert (syncer.store.archive_dir / day / "1.json").exists()

    syncer.last_full = datetime.now(timezone.utc) - timedelta(hours=2)  # the hourly reconcile is due
    result = syncer.cycle()
    assert result.full and on_disk(syncer) == {5} and 4 in archived(syncer)


def test_a_reopened_ticket_comes_back(fake: FakeFreshservice, tmp_path: Path) -> None:
    fake.add_ticket(id=1)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    fake.update_ticket(1, status=4)
    syncer.cycle()
    assert on_disk(syncer) == set()
    fake.update_ticket(1, status=2, updated_at=iso(datetime.now(timezone.utc) + timedelta(seconds=1)))
    syncer.cycle()
    assert on_disk(syncer) == {1}


def _files(syncer: Syncer) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in syncer.store.folder.glob("*.json")}


@pytest.mark.parametrize("full", [True, False])
def test_a_failed_cycle_changes_nothing(fake: FakeFreshservice, tmp_path: Path, full: bool) -> None:
    for n in range(1, 251):
        fake.add_ticket(id=n)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    before, cursor = _files(syncer), syncer.cursor
    fake.update_ticket(7, status=4)
    fake.update_ticket(8, subject="new subject")
    fake.update_ticket(9, deleted=True)
    original = fake.route

    def third_page_fails(path: str, query: dict[str, str]):
        if query.get("page") == "3" or not full:
            return 500, {}, {}, 1
        return original(path, query)

    fake.route = third_page_fails  # type: ignore[method-assign]
    if full:
        syncer.last_full = None  # a reconcile that gets two pages of three
    with pytest.raises(SourceError, match="server error"):
        syncer.cycle()
    assert _files(syncer) == before and archived(syncer) == {} and syncer.cursor == cursor


def test_names_are_discovered_and_a_persons_edit_wins(fake: FakeFreshservice, tmp_path: Path) -> None:
    fake.add_person("agent", 21000000001, "Ada", "Lovelace")
    fake.add_person("requester", 29000000001, "Carol", "Jones")
    fake.groups = {31000000001: {"id": 31000000001, "name": "Service Desk", "workspace_id": 2}}
    fake.add_ticket(id=1, requester_id=29000000001, responder_id=21000000001)
    fake.add_ticket(id=2, requester_id=29000000002)  # a requester the helpdesk does not know
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "agents.txt").write_text("# ours\n21000000001:Ada (team lead)\n")
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    discovered = syncer.store.names_dir
    assert names.read_file(discovered / "agents.txt") == {21000000001: "Ada Lovelace"}
    assert names.read_file(discovered / "statuses.txt")[6] == "Waiting on Customer"
    assert names.read_file(discovered / "groups.txt") == {31000000001: "Service Desk"}
    assert names.read_file(discovered / "requesters.txt") == {29000000001: "Carol Jones"}
    merged = names.load(discovered, tmp_path / "config")
    assert merged["agents"][21000000001] == "Ada (team lead)"
    assert (tmp_path / "config" / "agents.txt").read_text() == "# ours\n21000000001:Ada (team lead)\n"

    fake.requests.clear()
    fake.add_person("agent", 21000000001, "Ada", "King")  # renamed in Freshservice
    syncer.names_due = datetime.now(timezone.utc)  # the scheduled refresh
    syncer.cycle()
    assert fake.calls_to("requesters") == []  # cached, and the unknown one is not asked again
    assert names.read_file(discovered / "agents.txt") == {21000000001: "Ada King"}
    assert names.load(discovered, tmp_path / "config")["agents"][21000000001] == "Ada (team lead)"


def one_requester_each(fake: FakeFreshservice, count: int) -> None:
    for n in range(1, count + 1):
        fake.add_person("requester", 29000000000 + n, f"R{n}")
        fake.add_ticket(id=n, requester_id=29000000000 + n)


def test_requester_lookups_are_budgeted_per_cycle(fake: FakeFreshservice, tmp_path: Path) -> None:
    one_requester_each(fake, 30)
    syncer = make_syncer(fake, tmp_path, requester_lookups_per_cycle=10, max_calls_per_minute=8)
    syncer.cycle()
    assert len(fake.calls_to("requesters/")) == 10  # the minute has no calls to spare: the setting's 10
    syncer.cycle()
    syncer.cycle()
    assert len(fake.calls_to("requesters/")) == 30
    syncer.cycle()
    assert len(fake.calls_to("requesters/")) == 30
    assert len(names.read_file(syncer.store.names_dir / "requesters.txt")) == 30


def test_requester_lookups_use_the_calls_the_tickets_leave_free(fake: FakeFreshservice, tmp_path: Path) -> None:
    one_requester_each(fake, 60)
    syncer = make_syncer(fake, tmp_path, requester_lookups_per_cycle=10, max_calls_per_minute=40)
    syncer.cycle()
    looked_up = len(fake.calls_to("requesters/"))
    assert 30 <= looked_up <= 38 and len(fake.requests) <= 40  # under the ceiling, two calls kept back


def test_many_requesters_are_named_from_the_helpdesks_list_while_it_pays(fake: FakeFreshservice,
                                                                         tmp_path: Path) -> None:
    one_requester_each(fake, 250)  # a first sync: 250 requesters to name, and a directory of just them
    syncer = make_syncer(fake, tmp_path, max_calls_per_minute=40)
    syncer.cycle()
    assert len(names.read_file(syncer.store.names_dir / "requesters.txt")) == 250
    assert len(fake.calls_to("requesters")) == 3 and fake.calls_to("requesters/") == []  # 3 pages, no lookups


def test_a_directory_far_larger_than_the_helpdesk_costs_one_page(fake: FakeFreshservice, tmp_path: Path) -> None:
    for n in range(1, 2001):  # a big company's directory; its first page names nobody on the wall
        fake.add_person("requester", 28000000000 + n, f"Staff{n}")
    one_requester_each(fake, 150)
    syncer = make_syncer(fake, tmp_path, requester_lookups_per_cycle=50, max_calls_per_minute=8)
    for _ in range(4):
        syncer.cycle()
    listed = [q for p, q in fake.requests if p == "/api/v2/requesters"]
    assert len(listed) == 1  # one page showed the list does not pay; one by one from then on
    assert len(fake.calls_to("requesters/")) == 150
    assert len(names.read_file(syncer.store.names_dir / "requesters.txt")) == 150


@pytest.mark.parametrize("breaker", ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x1c"])
def test_a_name_with_a_line_break_cannot_rename_anyone_else(fake: FakeFreshservice, tmp_path: Path,
                                                            breaker: str) -> None:
    fake.add_person("requester", 29000000001, f"Eve{breaker}29000000002:Mallory{breaker}# x")
    fake.add_person("requester", 29000000002, "Ada")
    fake.add_ticket(id=1, requester_id=29000000001)
    fake.add_ticket(id=2, requester_id=29000000002)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    path = syncer.store.names_dir / "requesters.txt"
    assert names.read_file(path) == {29000000001: "Eve 29000000002:Mallory # x", 29000000002: "Ada"}
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3  # the header and one line each


def test_a_storm_of_faults_loses_no_active_ticket(fake: FakeFreshservice, tmp_path: Path) -> None:
    for n in range(1, 301):
        fake.add_ticket(id=n, status=2 if n % 3 else 4)
    active = {n for n in range(1, 301) if n % 3}
    syncer = make_syncer(fake, tmp_path, max_retries=3)
    syncer.cycle()
    assert on_disk(syncer) == active
    fake.storm(0.35, seed=7)
    failures = 0
    for round_ in range(12):
        if round_ % 4 == 0:
            syncer.last_full = None  # reconciles in the storm, too
        fake.update_ticket(1 + round_ * 3, subject=f"storm {round_}")
        try:
            syncer.cycle()
        except SourceError:
            failures += 1
        assert active <= on_disk(syncer), "an active ticket vanished during the storm"
        assert not set(archived(syncer)) & active
    assert failures < 12
    fake.storm(0.0)
    syncer.last_full = None
    syncer.cycle()
    assert on_disk(syncer) == active
    assert json.loads((syncer.store.folder / "34.json").read_text())["subject"] == "storm 11"
