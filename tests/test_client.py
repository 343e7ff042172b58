"""The Freshservice client against the fake server: paging, retries, pacing, errors."""

from __future__ import annotations

import base64
import logging

import pytest

from ticketdash.secrets import Secret
from tests.helpers import KEY
from tests.fakefs import FakeFreshservice
from watcher.client import AuthError, ApiClient
from watcher.transport import ApiError, Pacer


class Sleeps:
    """Records the pauses the client asks for instead of sleeping them."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(fake: FakeFreshservice, sleep: Sleeps | None = None, **kw: object) -> ApiClient:
    options = {"timeout": 2.0, "max_retries": 3, "backoff": 0.01, "sleep": sleep or Sleeps()}
    options.update(kw)
    return ApiClient(fake.base_url + "/api/v2", Secret(KEY), **options)  # type: ignore[arg-type]


def all_tickets(client: ApiClient, **params: str) -> list[dict]:
    return [t for page in client.pages("tickets", "tickets", params) for t in page]


def test_pages_follow_the_link_header_100_at_a_time(fake: FakeFreshservice) -> None:
    for n in range(1, 251):
        fake.add_ticket(id=n)
    client = client_for(fake)
    tickets = all_tickets(client, updated_since="2000-01-01T00:00:00Z", include="stats")
    assert sorted(t["id"] for t in tickets) == list(range(1, 251))
    calls = fake.calls_to("tickets")
    assert len(calls) == 3 and client.usage.calls == 3
    assert all(q["per_page"] == "100" and q["include"] == "stats" for q in calls)
    assert [q.get("page") for q in calls] == [None, "2", "3"]
    assert client.usage.credits == 9  # a list with include costs 3


def test_basic_auth_with_the_key(fake: FakeFreshservice) -> None:
    client = client_for(fake)
    client.get("workspaces")
    header = client.session.auth
    assert header == (KEY, "X")
    assert base64.b64encode(f"{KEY}:X".encode())  # the fake checks the same header


def test_429_waits_retry_after_then_succeeds(fake: FakeFreshservice) -> None:
    fake.add_ticket(id=1)
    fake.fault("status", "tickets", status=429, retry_after=7)
    sleeps = Sleeps()
    client = client_for(fake, sleeps)
    assert [t["id"] for t in all_tickets(client)] == [1]
    assert 7 in [round(s) for s in sleeps.calls]


@pytest.mark.parametrize("kind, options", [
    ("status", {"status": 500}), ("status", {"status": 502}), ("status", {"status": 503}),
    ("truncate", {}), ("malformed", {}), ("reset", {}), ("slow", {"seconds": 3.0}),
])
def test_transient_failures_are_retried(fake: FakeFreshservice, kind: str, options: dict) -> None:
    fake.add_ticket(id=5)
    fake.fault(kind, "tickets", times=2, **options)
    client = client_for(fake)
    assert [t["id"] for t in all_tickets(client)] == [5]
    assert client.usage.retries == 2


def test_persistent_failure_is_an_error_not_a_crash(fake: FakeFreshservice) -> None:
    fake.fault("malformed", "tickets", times=10)
    client = client_for(fake)
    with pytest.raises(ApiError, match="malformed JSON body.*gave up after 4 tries"):
        all_tickets(client)


def test_wrong_key_is_an_auth_error_that_never_shows_the_key(fake: FakeFreshservice, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = ApiClient(fake.base_url + "/api/v2", Secret("sk-wrong-key-77"), sleep=Sleeps())
    with pytest.raises(AuthError, match=r"Freshservice rejected the API key \(401\)") as info:
        client.get("agents")
    assert len(fake.requests) == 1  # no retry: it will not get better by itself
    for text in (str(info.value), repr(info.value), repr(client), caplog.text):
        assert "sk-wrong-key-77" not in text


def test_unreachable_server_is_a_clear_error(fake: FakeFreshservice) -> None:
    client = ApiClient("http://127.0.0.1:9/api/v2", Secret(KEY), max_retries=1, backoff=0.01, sleep=Sleeps())
    with pytest.raises(ApiError, match="cannot reach 127.0.0.1:9"):
        client.get("agents")


def test_other_http_errors_are_reported_without_retry(fake: FakeFreshservice) -> None:
    fake.fault("status", "tickets", status=400)
    client = client_for(fake)
    with pytest.raises(ApiError, match="HTTP 400"):
        all_tickets(client)
    assert client.usage.retries == 0


def test_link_to_another_host_is_not_sent_the_key(fake: FakeFreshservice) -> None:
    for n in range(1, 151):
        fake.add_ticket(id=n)
    client = client_for(fake)
    # The fake builds links from the Host header; a forged Host must not redirect the key elsewhere.
    client.session.headers["Host"] = "evil.example.com"
    tickets = all_tickets(client)
    assert len(tickets) == 150


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_keeps_under_the_ceiling() -> None:
    clock = Clock()
    pacer = Pacer(5, clock, clock.sleep)
    for _ in range(15):
        pacer.before_call()
        clock.now += 1
    times = list(pacer.sent)
    assert clock.now >= 1000 + 120  # 15 calls at 5 per minute: at least two full minutes
    for i in range(len(times) - 5):
        assert times[i + 5] - times[i] >= 60


def test_pacer_slows_down_when_the_budget_runs_low() -> None:
    clock = Clock()
    pacer = Pacer(1000, clock, clock.sleep)
    pacer.after_response(remaining=80, total=100)
    pacer.before_call()
    assert clock.now == 1000  # plenty left: no pause
    pacer.after_response(remaining=2, total=100)
    pacer.before_call()
    assert clock.now == pytest.approx(1020)  # 2 left: spread them out


def test_ceiling_holds_against_the_real_server(fake: FakeFreshservice) -> None:
    sleeps = Sleeps()
    client = client_for(fake, sleeps, max_calls_per_minute=3)
    for _ in range(4):
        client.get("workspaces")
    assert sleeps.calls and sleeps.calls[0] > 50  # the fourth call waited out the minute


def test_slows_down_when_the_real_server_says_the_budget_is_low(fake: FakeFreshservice) -> None:
    fake.budget_per_minute = 10
    sleeps = Sleeps()
    client = client_for(fake, sleeps)
    for _ in range(8):
        client.get("workspaces")  # 1 credit each: 9, 8, ... left, and "low" is 3 or fewer
    assert sleeps.calls and all(s > 14 for s in sleeps.calls)  # paused once only 3 were left
    assert fake.credits == 8  # and never ran into a 429


def test_a_write_key_shares_the_accounts_budget(fake) -> None:
    from ticketdash.secrets import Secret
    from watcher.client import ApiClient
    from tests.helpers import KEY

    fake.write_key = "write-key-0123456789"
    reader = ApiClient(fake.base_url + "/api/v2", Secret(KEY), max_calls_per_minute=40, sleep=lambda s: None)
    writer = reader.with_key(Secret("write-key-0123456789"))
    assert writer.pacer is reader.pacer and writer.usage is reader.usage  # one account, one ceiling
    assert writer.session.auth == ("write-key-0123456789", "X") and reader.session.auth == (KEY, "X")
    fake.add_ticket(id=1)
    reader.get("tickets/1")
    writer.find("tickets/1")  # the write key may also read; either way it counts once, on the one budget
    assert reader.usage.calls == 2
    reader.close()
    writer.close()
