"""``/metrics``: the board verdict in the Prometheus text format, for Grafana and alerting.

Every figure comes from the same verdict as the page and the light, so a
graph can never show green while the wall shows red.
"""

from __future__ import annotations

from typing import Any, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from ticketdash import states
from ticketdash.board import SECTIONS, Verdict

LIGHT_STATES = (*states.BOARD_STATES, "off")


def exposition(verdict: Verdict) -> bytes:
    """The text exposition of *verdict*."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(verdict))
    return generate_latest(registry)


class _Collector:
    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def collect(self) -> Iterator[Metric]:
        v = self.verdict
        by_state = GaugeMetricFamily("ticketdash_tickets", "Active tickets by state", labels=["state"])
        for state in states.TICKET_STATES:
            by_state.add_metric([state], v.counts.get(state, 0))
        yield by_state

        acked = GaugeMetricFamily("ticketdash_acknowledged_tickets", "Active tickets someone said \"on it\" for, "
                                  "by state", labels=["state"])
        for state in states.TICKET_STATES:
            acked.add_metric([state], v.acknowledged.get(state, 0))
        yield acked

        by_section = GaugeMetricFamily("ticketdash_section_tickets", "Active tickets by section and state",
                                       labels=["section", "state"])
        for key, _ in SECTIONS:
            counts = v.section_counts(key)
            for state in states.TICKET_STATES:
                by_section.add_metric([key, state], counts.get(state, 0))
        yield by_section

        yield _one_hot("ticketdash_board_state", "The board's worst state (1 for the current one)", states.BOARD_STATES,
                       v.worst)
        yield _one_hot("ticketdash_data_status", "Whether the data is fit to be shown as current",
                       ("ok", "stale", "error"), v.status)
        yield GaugeMetricFamily("ticketdash_board_severity",
                                "The board's worst state as a number: 0 error, 1 stale ... 7 clear",
                                value=states.SEVERITY[v.worst])
        yield GaugeMetricFamily("ticketdash_breached_tickets", "Tickets past a deadline (FR overdue plus overdue)",
                                value=v.breached)
        yield GaugeMetricFamily("ticketdash_unreadable_tickets", "Tickets that cannot be read or judged",
                                value=len(v.unreadable))
        age = v.data_age_seconds()
        if age is not None:
            yield GaugeMetricFamily("ticketdash_data_age_seconds", "Seconds since the watcher's last good sync",
                                    value=age)
        if v.next_breach_seconds is not None:
            yield GaugeMetricFamily("ticketdash_next_breach_seconds", "Seconds until the next deadline passes",
                                    value=v.next_breach_seconds)
        api = v.heartbeat.get("api") if isinstance(v.heartbeat.get("api"), dict) else {}
        for name, key, help in (
            ("ticketdash_watcher_api_calls", "calls", "API calls of the watcher's last cycle"),
            ("ticketdash_watcher_api_credits", "credits", "Rate-limit credits of the watcher's last cycle"),
            ("ticketdash_watcher_rate_limit_remaining", "remaining", "Freshservice's remaining rate-limit budget"),
            ("ticketdash_watcher_rate_limit_total", "total", "Freshservice's rate-limit budget per minute"),
        ):
            if _number(api.get(key)):
                yield GaugeMetricFamily(name, help, value=api[key])
        light = v.light.get("state") if v.light else None
        if light in LIGHT_STATES:
            yield _one_hot("ticketdash_light_state", "What the desk light shows (1 for the current state)",
                           LIGHT_STATES, light)


def _one_hot(name: str, help: str, states: tuple[str, ...], current: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help, labels=["state"])
    for state in states:
        family.add_metric([state], 1 if state == current else 0)
    return family


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
