"""The shared rules, as tables: one place decides for the wall and the light."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ticketdash import rules, states
from ticketdash.settings import RulesSettings
from ticketdash.ticket import from_record
from ticketdash.timefmt import format as iso

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


def ticket(kind="Incident", fr=8 * H, due=48 * H, responded=None, requester=None, agent=None,
           updated=-H, priority=2) -> dict:
    return {
        "type": kind, "priority": priority, "fr_due_by": iso(NOW + fr) if fr is not None else None,
        "due_by": iso(NOW + due) if due is not None else None, "updated_at": iso(NOW + updated),
        "stats": {
            "first_responded_at": iso(NOW + responded) if responded is not None else None,
            "requester_responded_at": iso(NOW + requester) if requester is not None else None,
            "agent_responded_at": iso(NOW + agent) if agent is not None else None,
        },
    }


@pytest.mark.parametrize("t, status, state", [
    (ticket(fr=-1 * H), "Open", "fr_overdue"),
    (ticket(fr=-1 * H, due=-1 * H), "Open", "fr_overdue"),
    (ticket(fr=-1 * H, responded=-2 * H, due=10 * H), "Open", "warning"),  # answered: due_by applies
    (ticket(fr=-9 * H, responded=-8 * H, due=-1 * H), "Open", "overdue"),
    (ticket(kind="Service Request", fr=-1 * H, due=30 * H), "Open", "ok"),  # SRs: only due_by
    (ticket(kind="Service Request", due=-timedelta(minutes=1)), "Open", "overdue"),
    (ticket(fr=3 * H), "Open", "critical"),
    (ticket(fr=timedelta(hours=3, minutes=59)), "Open", "critical"),
    (ticket(fr=4 * H), "Open", "warning"),
    (ticket(fr=11 * H), "Open", "warning"),
    (ticket(fr=12 * H), "Open", "ok"),
    (ticket(fr=-1 * H), "Pending", "paused"),
    (ticket(fr=-1 * H), "waiting on customer", "paused"),  # names match case-insensitively
    (ticket(fr=-1 * H), "On Hold", "paused"),
    (ticket(responded=-5 * H, agent=-5 * H, requester=-1 * H), "Open", "attention"),  # customer replied
    (ticket(responded=-5 * H, agent=-1 * H, requester=-5 * H), "Open", "ok"),  # agent answered last
    (ticket(priority=4, updated=-31 * timedelta(minutes=1), responded=-H), "Open", "attention"),
    (ticket(priority=4, updated=-29 * timedelta(minutes=1), responded=-H), "Open", "ok"),
    (ticket(priority=1, updated=-5 * 24 * H, responded=-H, due=30 * 24 * H), "Open", "attention"),
    (ticket(fr=None, due=None), "Open", "ok"),  # no SLA at all
    (ticket(fr=None, due=None, priority=None), "Custom status 9", "ok"),
])
def test_ticket_states(t: dict, status: str, state: str) -> None:
    assert rules.ticket_verdict(t, status, NOW).state == state


def test_verdict_says_which_deadline() -> None:
    v = rules.ticket_verdict(ticket(fr=2 * H), "Open", NOW)
    assert v.first_response and v.due_at == NOW + 2 * H
    v = rules.ticket_verdict(ticket(fr=2 * H, responded=-H, due=5 * H), "Open", NOW)
    assert not v.first_response and v.due_at == NOW + 5 * H


def test_thresholds_are_configurable() -> None:
    policy = rules.Policy.from_settings(RulesSettings(critical_hours=1, warning_hours=2, update_minutes={"urgent": 5}))
    assert rules.ticket_verdict(ticket(fr=90 * timedelta(minutes=1)), "Open", NOW, policy).state == "warning"
    assert rules.ticket_verdict(ticket(fr=3 * H), "Open", NOW, policy).state == "ok"
    urgent = ticket(priority=4, updated=-10 * timedelta(minutes=1), responded=-H)
    assert rules.ticket_verdict(urgent, "Open", NOW, policy).state == "attention"
    assert policy.update_after[3] == timedelta(days=2)  # unset priorities keep their defaults


@pytest.mark.parametrize("heartbeat, health", [
    (None, "stale"),
    ({"last_success_at": None, "last_error": None}, "stale"),
    ({"last_success_at": iso(NOW - timedelta(seconds=100)), "last_error": None}, "ok"),
    ({"last_success_at": iso(NOW - timedelta(seconds=181)), "last_error": None}, "stale"),
    ({"last_success_at": iso(NOW), "last_error": "Freshservice rejected the API key (401)"}, "error"),
    ({"last_success_at": "garbage", "last_error": None}, "stale"),
    ({"last_success_at": iso(NOW + timedelta(seconds=50)), "last_error": None}, "ok"),  # a little skew
    ({"last_success_at": iso(NOW + timedelta(minutes=5)), "last_error": None}, "stale"),  # the clock stepped back
])
def test_data_health(heartbeat: dict | None, health: str) -> None:
    assert rules.data_health(heartbeat, NOW, stale_after=180)[0] == health


@pytest.mark.parametrize("states, health, board", [
    ([], "ok", "clear"),
    (["ok", "paused"], "ok", "clear"),
    (["ok", "attention"], "ok", "attention"),
    (["warning", "critical", "ok"], "ok", "critical"),
    (["overdue", "fr_overdue"], "ok", "fr_overdue"),
    (["ok"], "stale", "stale"),
    (["fr_overdue"], "stale", "stale"),  # stale data outranks what it says
    (["ok"], "error", "error"),
])
def test_board_state(states: list[str], health: str, board: str) -> None:
    assert rules.board_state(states, health) == board


def test_orders_match_the_contract() -> None:
    assert states.TICKET_STATES == ("fr_overdue", "overdue", "critical", "warning", "attention", "ok", "paused")
    assert states.BOARD_STATES[:2] == ("error", "stale") and states.BOARD_STATES[-1] == "clear"


@pytest.mark.parametrize("t, status, expected", [
    (ticket(fr=20 * H), "Open", NOW + 8 * H),  # warning starts 12 h before the first response is due
    (ticket(fr=6 * H), "Open", NOW + 2 * H),  # critical starts 4 h before
    (ticket(fr=1 * H), "Open", NOW + 1 * H),  # then the breach itself
    (ticket(fr=None, due=None, updated=-H), "Open", NOW + 71 * H),  # only the update rule (medium: 3 days)
    (ticket(fr=-1 * H, due=-H, responded=-2 * H, updated=-H), "Open", None),  # overdue stays overdue
    (ticket(fr=5 * H), "Pending", None),  # paused: time changes nothing
    (ticket(fr=None, due=None, priority=None), "Open", None),
])
def test_next_change(t: dict, status: str, expected) -> None:
    facts = from_record(t)
    assert rules.next_change(facts, status, NOW) == expected
    if expected is not None:  # and the state really does change there
        before = rules.verdict(facts, status, expected - timedelta(seconds=1)).state
        assert rules.verdict(facts, status, expected + timedelta(seconds=1)).state != before


@pytest.mark.parametrize("status, replied, kind, section", [
    ("Open", False, "active", "open"),
    ("open", True, "active", "waiting"),  # the customer wrote last
    ("PENDING", False, "paused", "other"),  # any case
    ("On Hold", True, "paused", "other"),
    ("Waiting on Third Party", False, "paused", "other"),
    ("Customer Responded", False, "active", "waiting"),
    ("Status 99", False, "active", "open"),  # a status nobody named
])
def test_the_status_table(status: str, replied: bool, kind: str, section: str) -> None:
    table = rules.DEFAULT_POLICY.statuses
    assert (table.kind(status), table.section(status, replied)) == (kind, section)
