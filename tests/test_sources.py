"""Freshdesk and Zendesk sources against their fakes: complete, incremental, nothing lost, caps, 429."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from ticketdash.settings import WatcherSettings
from ticketdash.secrets import Secret
from ticketdash.store import TicketStore
from tests.fakehelpdesks import FakeFreshdesk, FakeZendesk
from tests.fakefs import iso
from watcher.client import ApiClient
from watcher.sources import sliced
from watcher.sources.freshdesk import FreshdeskSource, _choices
from watcher.sources.zendesk import PRIORITIES, STATUSES, ZendeskSource, _deadlines, convert
from watcher.sync import Syncer

NOW = datetime.now(timezone.utc)


@pytest.fixture
def freshdesk() -> Iterator[FakeFreshdesk]:
    fake = FakeFreshdesk()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    fake = FakeZendesk(export_per_minute=1000)
    fake.start()
    yield fake
    fake.stop()


def freshdesk_source(fake: FakeFreshdesk, **options: Any) -> FreshdeskSource:
    client = ApiClient(fake.url + "/api/v2", Secret(fake.api_key), product="Freshdesk", timeout=2, backoff=0.01,
                       max_retries=2, sleep=_sleep)
    return FreshdeskSource(client, "https://acme.freshdesk.com/a/tickets/{id}", **options)


def zendesk_source(fake: FakeZendesk, **options: Any) -> ZendeskSource:
    client = ApiClient(fake.url + "/api/v2", Secret(fake.api_key), product="Zendesk", user=f"{fake.email}/token",
                       timeout=2, backoff=0.01, max_retries=2, sleep=_sleep)
    return ZendeskSource(client, "https://acme.zendesk.com/agent/tickets/{id}", sleep=_sleep, **options)


SLEPT: list[float] = []


def _sleep(seconds: float) -> None:
    SLEPT.append(seconds)


def syncer_for(source: Any, tmp_path: Path) -> Syncer:
    store = TicketStore(tmp_path / "tickets")
    store.folder.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config").mkdir(exist_ok=True)
    return Syncer(source, store, WatcherSettings(), tmp_path / "config")


def on_disk(syncer: Syncer) -> dict[int, dict]:
    return {int(p.stem): json.loads(p.read_text()) for p in syncer.store.folder.glob("*.json") if p.stem.isdigit()}


def archived(syncer: Syncer) -> set[int]:
    return {int(p.stem) for p in syncer.store.archive_dir.glob("*/*.json")}


def names_file(syncer: Syncer, kind: str) -> str:
    return (syncer.store.names_dir / f"{kind}.txt").read_text()


# -- Freshdesk -----------------------------------------------------------------


def test_freshdesk_first_sync_is_complete_with_names(freshdesk: FakeFreshdesk, tmp_path: Path) -> None:
    freshdesk.add_person("agent", 501, "Ada", "Lovelace")
    freshdesk.add_person("requester", 29000000001, "Carol", "Jones")
    freshdesk.groups = {77: {"id": 77, "name": "Service Desk"}}
    freshdesk.add_ticket(id=1, responder_id=501, group_id=77)
    freshdesk.add_ticket(id=2, created_at=iso(NOW - timedelta(days=300)), updated_at=iso(NOW - timedelta(days=100)))
    freshdesk.add_ticket(id=3, status=4)
    freshdesk.add_ticket(id=4, status=6, type=None)
    freshdesk.add_ticket(id=5, deleted=True)
    freshdesk.add_ticket(id=6, spam=True)
    syncer = syncer_for(freshdesk_source(freshdesk), tmp_path)
    result = syncer.cycle()
    assert set(on_disk(syncer)) == {1, 2, 4} and result.active == 3
    assert on_disk(syncer)[1] == freshdesk.tickets[1]  # Freshdesk's shape is already the contract's
    for query in freshdesk.calls_to("tickets"):
        assert query["order_by"] == "updated_at" and query["order_type"] == "asc" and "updated_since" in query
    assert "501:Ada Lovelace" in names_file(syncer, "agents")
    assert "77:Service Desk" in names_file(syncer, "groups")
    assert "6:Waiting on Customer" in names_file(syncer, "statuses")
    assert "29000000001:Carol Jones" in names_file(syncer, "requesters")


def test_freshdesk_incremental_cycle_costs_one_call(freshdesk: FakeFreshdesk, tmp_path: Path) -> None:
    for n in range(1, 21):
        freshdesk.add_ticket(id=n, updated_at=iso(NOW - timedelta(hours=2)))
    syncer = syncer_for(freshdesk_source(freshdesk), tmp_path)
    syncer.cycle()
    assert syncer.cycle().calls == 1
    freshdesk.update_ticket(7, subject="Printer on fire")
    result = syncer.cycle()
    assert result.written == 1 and result.calls == 1 and on_disk(syncer)[7]["subject"] == "Printer on fire"


def test_freshdesk_tickets_leave_only_on_evidence(freshdesk: FakeFreshdesk, tmp_path: Path) -> None:
    for n in range(1, 8):
        freshdesk.add_ticket(id=n)
    syncer = syncer_for(freshdesk_source(freshdesk), tmp_path)
    syncer.cycle()
    freshdesk.update_ticket(1, status=4)  # resolved
    freshdesk.update_ticket(2, status=5)  # closed
    freshdesk.update_ticket(3, deleted=True)  # leaves the listings: only a reconcile and a look tell
    freshdesk.update_ticket(4, spam=True)
    # A broken listing and search that leave ticket 5 out: absence alone is no evidence.
    freshdesk.twist = lambda path, query, answer: _drop(answer, 5)
    syncer.last_full = None  # the next cycle reconciles
    syncer.cycle()
    assert archived(syncer) == {1, 2, 3, 4}
    assert set(on_disk(syncer)) == {5, 6, 7}
    assert any(p.endswith("/tickets/5") for p, _ in freshdesk.requests)  # confirmed one by one


def _drop(answer: tuple, ticket_id: int) -> tuple:
    status, body, headers, cost = answer
    if isinstance(body, list):
        body = [t for t in body if not (isinstance(t, dict) and t.get("id") == ticket_id and "status" in t)]
    elif isinstance(body, dict) and "results" in body:
        kept = [t for t in body["results"] if t.get("id") != ticket_id]
        body = {**body, "results": kept, "total": body["total"] - (len(body["results"]) - len(kept))}
    return status, body, headers, cost


def test_freshdesk_listing_past_its_page_cap_restarts_from_the_last_update(freshdesk: FakeFreshdesk,
                                                                            tmp_path: Path) -> None:
    freshdesk.list_max_pages = 2
    for n in range(1, 451):
        freshdesk.add_ticket(id=n, updated_at=iso(NOW - timedelta(minutes=1000 - n)))
    syncer = syncer_for(freshdesk_source(freshdesk, list_max_pages=2), tmp_path)
    syncer.cycle()
    assert set(on_disk(syncer)) == set(range(1, 451))
    starts = [q["updated_since"] for q in freshdesk.calls_to("tickets") if q.get("page", "1") == "1"]
    assert len(starts) == 3 and starts == sorted(starts)


def test_freshdesk_active_set_is_sliced_under_the_search_cap(freshdesk: FakeFreshdesk, tmp_path: Path) -> None:
    freshdesk.search_max_pages = 2  # 60 results a query
    for n in range(1, 201):
        freshdesk.add_ticket(id=n, created_at=iso(NOW - timedelta(days=n)), updated_at=iso(NOW - timedelta(days=n)),
                             status=2 if n % 2 else 4)
    syncer = syncer_for(freshdesk_source(freshdesk, search_max_pages=2), tmp_path)
    syncer.cycle()
    freshdesk.requests.clear()
    syncer.last_full = None
    syncer.cycle()
    searches = freshdesk.calls_to("search/tickets")
    assert searches and all(int(q["page"]) <= 2 for q in searches)
    assert [q for q in freshdesk.calls_to("tickets") if "updated_since" in q and q["updated_since"].startswith("2000")] == []
    assert set(on_disk(syncer)) == set(range(1, 201, 2)) and not syncer.unconfirmed


def test_the_known_tickets_plan_the_slices_so_that_no_call_is_a_probe() -> None:
    days = [date(2026, 1, 1) + timedelta(days=n % 300) for n in range(3000)]  # 3,000 active over 300 days
    cap, asked = 1200, []

    def search(since: date | None, until: date | None) -> dict[int, dict[str, Any]] | None:
        asked.append((since, until))
        inside = [n for n, day in enumerate(days) if (since is None or day >= since) and (until is None or day <= until)]
        return None if len(inside) > cap else {n: {"id": n} for n in inside}

    assert len(sliced(search, last=date(2026, 12, 31), created=sorted(days), per_slice=840)) == 3000
    assert len(asked) == 4  # 3,000 / 840: four slices, each under the cap, no probe
    asked.clear()
    assert len(sliced(search, last=date(2026, 12, 31))) == 3000  # without a plan: probes and halves
    assert len(asked) > 4


def test_sliced_search_gives_up_on_a_day_too_big_to_slice() -> None:
    asked = []

    def search(since: date | None, until: date | None) -> dict[int, dict[str, Any]] | None:
        asked.append((since, until))
        return None  # every slice is over the cap: one day holds too many

    assert sliced(search, date(2026, 1, 1), date(2026, 1, 8)) is None
    assert len(asked) < 20


def test_freshdesk_429_waits_what_retry_after_says(freshdesk: FakeFreshdesk, tmp_path: Path) -> None:
    freshdesk.add_ticket(id=1)
    freshdesk.fault("status", "tickets", status=429, retry_after=1)
    SLEPT.clear()
    syncer = syncer_for(freshdesk_source(freshdesk), tmp_path)
    syncer.cycle()
    assert set(on_disk(syncer)) == {1} and any(0.5 < s <= 1.0 for s in SLEPT)


# -- Zendesk -------------------------------------------------------------------


def test_zendesk_first_sync_converts_to_the_contract_shape(zendesk: FakeZendesk, tmp_path: Path) -> None:
    zendesk.add_person("agent", 900, "Grace", "Hopper")
    zendesk.add_person("requester", 361000001, "Erin", "Nakamura")
    zendesk.groups = {40: {"id": 40, "name": "Infrastructure"}}
    fr_due, due = NOW + timedelta(hours=3), NOW + timedelta(days=1)
    zendesk.add_ticket(id=11, assignee_id=900, group_id=40, priority="urgent", fr_due=fr_due, due=due)
    zendesk.add_ticket(id=12, status="pending", priority=None, fr_due=None)
    zendesk.add_ticket(id=13, status="hold", type=None)
    zendesk.add_ticket(id=14, status="solved")
    zendesk.add_ticket(id=15, status="deleted")
    zendesk.add_ticket(id=16, status="new", created_at=iso(NOW - timedelta(days=400)),
                       updated_at=iso(NOW - timedelta(days=200)))
    syncer = syncer_for(zendesk_source(zendesk), tmp_path)
    syncer.cycle()
    files = on_disk(syncer)
    assert set(files) == {11, 12, 13, 16}
    t = files[11]
    assert (t["status"], t["priority"], t["responder_id"], t["group_id"]) == (2, 4, 900, 40)
    assert (t["fr_due_by"], t["due_by"], t["type"]) == (iso(fr_due), iso(due), "incident")
    assert files[12]["fr_due_by"] is None and files[12]["priority"] is None and files[12]["status"] == 3
    assert "6:On Hold" in names_file(syncer, "statuses") and "3:Pending" in names_file(syncer, "statuses")
    assert "900:Grace Hopper" in names_file(syncer, "agents") and "40:Infrastructure" in names_file(syncer, "groups")
    assert "361000001:Erin Nakamura" in names_file(syncer, "requesters")


def test_zendesk_pages_the_export_and_keeps_the_cursor(zendesk: FakeZendesk, tmp_path: Path) -> None:
    zendesk.export_page = 50
    for n in range(1, 131):
        zendesk.add_ticket(id=n, updated_at=iso(NOW - timedelta(minutes=300 - n)))
    source = zendesk_source(zendesk)
    syncer = syncer_for(source, tmp_path)
    syncer.cycle()
    assert set(on_disk(syncer)) == set(range(1, 131))
    assert source.checkpoint is None  # the engine's caller commits a successful cycle
    source.commit()
    first = source.checkpoint
    zendesk.requests.clear()
    zendesk.update_ticket(77, subject="Wi-Fi down in B2")
    result = syncer.cycle()
    source.commit()
    exports = zendesk.calls_to("incremental")
    assert result.written == 1 and exports and exports[0]["cursor"] == first and "start_time" not in exports[0]
    assert on_disk(syncer)[77]["subject"] == "Wi-Fi down in B2" and source.checkpoint != first


def synced_zendesk(zendesk: FakeZendesk, tmp_path: Path, tickets: int) -> Syncer:
    """A mirror of *tickets* Zendesk tickets after a first cycle, its cursor committed as the watcher would."""
    for n in range(1, tickets + 1):
        zendesk.add_ticket(id=n)
    syncer = syncer_for(zendesk_source(zendesk), tmp_path)
    syncer.cycle()
    syncer.source.commit()
    return syncer


def test_zendesk_tickets_leave_only_on_evidence(zendesk: FakeZendesk, tmp_path: Path) -> None:
    syncer = synced_zendesk(zendesk, tmp_path, 6)
    zendesk.update_ticket(1, status="solved")
    zendesk.update_ticket(2, status="closed")
    zendesk.update_ticket(3, status="deleted")
    del zendesk.tickets[4]  # gone without a trace in the export: the search and a look tell
    zendesk.twist = lambda path, query, answer: _drop_zendesk(answer, 5)  # a search that leaves 5 out
    syncer.last_full = None
    syncer.cycle()
    assert archived(syncer) == {1, 2, 3, 4} and set(on_disk(syncer)) == {5, 6}


def _drop_zendesk(answer: tuple, ticket_id: int) -> tuple:
    status, body, headers, cost = answer
    if isinstance(body, dict) and "results" in body:
        body = {**body, "results": [t for t in body["results"] if t["id"] != ticket_id], "count": body["count"] - 1}
    return status, body, headers, cost


def test_zendesk_active_set_is_sliced_under_the_search_cap(zendesk: FakeZendesk, tmp_path: Path) -> None:
    zendesk.search_cap = 100
    for n in range(1, 301):
        created = iso(NOW - timedelta(days=n))
        zendesk.add_ticket(id=n, created_at=created, updated_at=created, status="open" if n % 2 else "solved")
    syncer = syncer_for(zendesk_source(zendesk, search_cap=100), tmp_path)
    syncer.cycle()
    zendesk.requests.clear()
    syncer.last_full = None
    syncer.cycle()
    assert len(zendesk.calls_to("search.json")) > 1
    assert [q for q in zendesk.calls_to("incremental") if "start_time" in q and q["start_time"] == "1"] == []
    assert set(on_disk(syncer)) == set(range(1, 301, 2)) and not syncer.unconfirmed


@pytest.mark.parametrize("allowed, refusals", [(10, 0), (3, 1)])
def test_zendesk_export_keeps_to_its_own_rate_and_waits_on_429(zendesk: FakeZendesk, allowed: int,
                                                               refusals: int) -> None:
    """At Zendesk's 10 a minute the export paces itself and is never refused; where the account
    allows fewer, a 429's Retry-After is waited out and nothing is lost."""
    zendesk.export_page, zendesk.export_per_minute = 1, allowed
    for n in range(1, 13):
        zendesk.add_ticket(id=n, updated_at=iso(NOW - timedelta(minutes=20 - n)))
    clock = [0.0]

    def sleep(seconds: float) -> None:
        SLEPT.append(seconds)
        clock[0] += seconds

    SLEPT.clear()
    zendesk.clock = lambda: clock[0]
    client = ApiClient(zendesk.url + "/api/v2", Secret(zendesk.api_key), product="Zendesk",
                       user=f"{zendesk.email}/token", max_retries=3, sleep=sleep, clock=lambda: clock[0])
    source = ZendeskSource(client, "", sleep=sleep, clock=lambda: clock[0])
    assert [t["id"] for t in source.tickets(None)] == list(range(1, 13))
    assert any(s >= 40 for s in SLEPT)  # waited on the simulated clock, not on ours
    assert (zendesk.export_refused >= 1) == bool(refusals)


def test_zendesk_wrong_token_is_an_error_naming_zendesk(zendesk: FakeZendesk, tmp_path: Path) -> None:
    client = ApiClient(zendesk.url + "/api/v2", Secret("wrong-token-1234"), product="Zendesk",
                       user=f"{zendesk.email}/token", max_retries=0, sleep=_sleep)
    with pytest.raises(Exception, match="Zendesk rejected the API key"):
        list(ZendeskSource(client, "", sleep=_sleep).tickets(None))


# -- the mapping tables, as tables ---------------------------------------------


@pytest.mark.parametrize("word, number, name", [
    ("new", 1, "New"), ("open", 2, "Open"), ("pending", 3, "Pending"), ("hold", 6, "On Hold"),
    ("solved", 4, "Solved"), ("closed", 5, "Closed"),
])
def test_zendesk_statuses(word: str, number: int, name: str) -> None:
    assert STATUSES[word] == (number, name)
    assert convert({"id": 1, "status": word})["status"] == number
    assert (number in ZendeskSource.done) == (word in ("solved", "closed"))


def test_zendesk_deleted_is_deleted() -> None:
    assert convert({"id": 1, "status": "deleted"})["deleted"] is True


@pytest.mark.parametrize("word, number", [("low", 1), ("normal", 2), ("high", 3), ("urgent", 4), (None, None),
                                          ("critical", None)])
def test_zendesk_priorities(word: str | None, number: int | None) -> None:
    assert convert({"id": 1, "status": "open", "priority": word})["priority"] == number
    if word in PRIORITIES:
        assert PRIORITIES[word] == number


A, B, C = "2026-05-01T10:00:00Z", "2026-05-01T12:00:00Z", "2026-05-02T09:00:00Z"


@pytest.mark.parametrize("metrics, expected", [
    ([{"metric": "first_reply_time", "stage": "active", "breach_at": A}], (A, None)),
    ([{"metric": "first_reply_time", "stage": "achieved", "breach_at": A}], (None, None)),
    ([{"metric": "first_reply_time", "stage": "paused", "breach_at": A}], (None, None)),
    ([{"metric": "next_reply_time", "stage": "active", "breach_at": C},
      {"metric": "agent_work_time", "stage": "active", "breach_at": B}], (None, B)),  # the earliest other metric
    ([{"metric": "first_reply_time", "stage": "active", "breach_at": A},
      {"metric": "requester_wait_time", "stage": "active", "breach_at": C}], (A, C)),
    ([{"metric": "agent_work_time", "stage": "active", "breach_at": "soon"}], (None, None)),
    ([], (None, None)),
])
def test_zendesk_sla_metrics(metrics: list, expected: tuple) -> None:
    assert _deadlines({"policy_metrics": metrics}) == expected


@pytest.mark.parametrize("choices, expected", [
    ({"2": ["Open", "Being Processed"], "8": ["Awaiting parts", "In progress"]}, {2: "Open", 8: "Awaiting parts"}),
    ({"9": "On site visit"}, {9: "On site visit"}),
    ({"x": ["Bad"], "3": [], "4": [""]}, {}),
    (["not", "a", "table"], {}),
])
def test_freshdesk_status_choices(choices: Any, expected: dict) -> None:
    assert _choices(choices) == expected


@pytest.mark.parametrize("kind, bad, named", [
    ("freshdesk", [{"priority": "high"}, {"due_by": "9999-99-99"}], ""),
    ("zendesk", [{"status": "escalated"}, {"updated_at": "yesterday"}], "unknown status 'escalated'"),
])
def test_a_malformed_ticket_is_skipped_and_named(kind: str, bad: list[dict], named: str, freshdesk: FakeFreshdesk,
                                                 zendesk: FakeZendesk, tmp_path: Path) -> None:
    fake: Any = freshdesk if kind == "freshdesk" else zendesk
    fake.add_ticket(id=1)
    for number, fields in enumerate(bad, 2):
        fake.add_ticket(id=number, **fields)
    source = freshdesk_source(freshdesk) if kind == "freshdesk" else zendesk_source(zendesk)
    syncer = syncer_for(source, tmp_path)
    syncer.cycle()
    assert set(on_disk(syncer)) == {1}
    assert {s["id"] for s in syncer.skipped_list()} == {2, 3}
    assert named in json.dumps(syncer.skipped_list())


# -- the watcher process, for each new source ------------------------------------


@pytest.mark.parametrize("kind", ["freshdesk", "zendesk"])
def test_the_watcher_process_mirrors_each_source_and_keeps_its_key_out(kind: str, tmp_path: Path,
                                                                        freshdesk: FakeFreshdesk,
                                                                        zendesk: FakeZendesk) -> None:
    from tests.helpers import run_module, write_config

    fake: Any = freshdesk if kind == "freshdesk" else zendesk
    fake.add_ticket(id=5)
    account = ({"domain": "acme.freshdesk.com", "base_url": fake.url} if kind == "freshdesk" else
               {"subdomain": "acme", "base_url": fake.url, "email": zendesk.email, "api_token_file": "token.txt"})
    config = write_config(tmp_path / "config", {"watcher": {"source": kind}, kind: account,
                                                "paths": {"tickets": "../tickets"}}, token=fake.api_key)
    result = run_module("watcher", "--config", str(config), "--once")
    assert result.returncode == 0, result.stderr
    beat = json.loads((tmp_path / "tickets" / "_watcher.json").read_text())
    assert beat["source"] == kind and beat["last_error"] is None and (tmp_path / "tickets" / "5.json").exists()
    assert beat["ticket_link"] == {"freshdesk": "https://acme.freshdesk.com/a/tickets/{id}",
                                   "zendesk": "https://acme.zendesk.com/agent/tickets/{id}"}[kind]
    (tmp_path / "config" / "token.txt").write_text("a-wrong-key-987654\n")
    result = run_module("watcher", "--config", str(config), "--once")
    beat = json.loads((tmp_path / "tickets" / "_watcher.json").read_text())
    assert result.returncode == 1 and f"{kind.title()} rejected the API key (401)" in beat["last_error"]
    everything = result.stderr + json.dumps(beat) + "".join(p.read_text() for p in (tmp_path / "tickets").rglob("*.*"))
    assert "a-wrong-key-987654" not in everything and fake.api_key not in everything


# -- hostile or broken Zendesk answers --------------------------------------------


def test_a_zendesk_export_whose_cursor_stands_still_fails_the_cycle_and_changes_nothing(zendesk: FakeZendesk,
                                                                                         tmp_path: Path) -> None:
    from watcher.transport import SourceError

    syncer = synced_zendesk(zendesk, tmp_path, 3)

    def stuck(path: str, query: dict, answer: tuple) -> tuple:
        status, body, headers, cost = answer
        if path.endswith("cursor.json") and isinstance(body, dict):
            body = {**body, "after_cursor": query.get("cursor", "same"), "end_of_stream": False}
        return status, body, headers, cost

    zendesk.twist = stuck
    with pytest.raises(SourceError, match="cursor does not move on"):
        syncer.cycle()
    assert set(on_disk(syncer)) == {1, 2, 3} and archived(syncer) == set()


def test_a_zendesk_next_page_on_another_host_is_asked_of_the_configured_one(zendesk: FakeZendesk,
                                                                              tmp_path: Path) -> None:
    for n in range(1, 102):  # two pages of agents
        zendesk.add_person("agent", 900 + n, f"Agent{n}")

    def elsewhere(path: str, query: dict, answer: tuple) -> tuple:
        status, body, headers, cost = answer
        if path.endswith("users.json") and body.get("next_page"):
            body = {**body, "next_page": body["next_page"].replace(zendesk.url, "http://attacker.example")}
        return status, body, headers, cost

    zendesk.twist = elsewhere
    assert len(zendesk_source(zendesk).agents()) == 101  # the second page, asked of the fake, not the attacker
    assert [q.get("page") for p, q in zendesk.requests if p.endswith("users.json")] == [None, "2"]
