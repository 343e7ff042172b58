"""Deciding what the light shows, and keeping it shown.

The state comes from the shared rules over the tickets/ folder (kept in
memory by file events), or from a remote dashboard's ``/api/board``. The
loop wakes on a file event (debounced), at the next moment a state can
change by time alone, to re-send the state, and to look for a lost light.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol

import requests

from ticketdash import states, timefmt
from ticketdash.board import LiveBoard
from ticketdash.config import Config
from ticketdash.settings import ViewSettings
from ticketdash.daemon import WakeLoop, write_status
from ticketdash.timefmt import in_quiet_hours
from ticketdash.lights import OFF, Effect
from blinky.device import Lights
from blinky.mqtt import Figures, MqttOutput

logger = logging.getLogger(__name__)

LOOK_FOR_LIGHT_SECONDS = 5.0


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str
    wake_at: datetime | None = None  # when time alone can change it
    demo: bool = False  # the data is the built-in demo helpdesk's
    acknowledged: bool = False  # someone is on every ticket in this state: its colour, without strobing
    figures: Figures | None = None  # the board's counts, for Home Assistant


class Source(Protocol):
    def start(self, on_change: Callable[[], None]) -> None: ...

    def decide(self, now: datetime) -> Decision: ...

    def stop(self) -> None: ...


class FolderSource:
    """The tickets/ folder, judged by the shared board module, as the page judges it."""

    def __init__(self, config: Config, view: ViewSettings, agent: int | None) -> None:
        self.keep = lambda ticket: view.matches(ticket, agent)
        self.agent = agent
        self.board = LiveBoard(config, config.blinky.rescan_seconds)

    def start(self, on_change: Callable[[], None] | None) -> None:
        if on_change is None:  # one look, no watching
            self.board.look()
        else:
            self.board.follow(on_change)

    def stop(self) -> None:
        self.board.stop()

    def decide(self, now: datetime) -> Decision:
        verdict = self.board.verdict(now, self.keep, self.agent)
        figures = Figures(verdict.worst, verdict.breached, dict(verdict.counts), verdict.data_age_seconds(),
                          verdict.status != "ok")
        return Decision(verdict.worst, verdict.reason, verdict.valid_until, verdict.demo, verdict.worst_acknowledged,
                        figures)


class RemoteSource:
    """A dashboard over HTTP(S): its board's worst state; unreachable or silent means stale."""

    def __init__(self, config: Config) -> None:
        b = config.blinky
        self.url = b.remote_url.rstrip("/") + "/api/board"
        self.params = {"view": b.view, **({"agent": str(b.agent)} if b.agent else {})}
        self.poll_seconds = b.remote_poll_seconds
        self.session = requests.Session()
        # Given per request: a session-wide value would lose to REQUESTS_CA_BUNDLE in the environment.
        self.verify: str | bool = str(b.remote_ca_file) if b.remote_ca_file else True
        self.session.headers["User-Agent"] = "ticketdash-blinky"
        if b.remote_access_key_file:
            key = b.remote_access_key_file.read_text(encoding="utf-8").strip()
            self.session.headers["Authorization"] = f"Bearer {key}"
        self.etag: str | None = None
        self.worst: str | None = None
        self.demo = False
        self.acknowledged = False
        self.figures: Figures | None = None
        self.last_ok = float("-inf")
        self.problem = "no answer from the dashboard yet"

    def start(self, on_change: Callable[[], None] | None) -> None:
        pass

    def stop(self) -> None:
        self.session.close()

    def poll(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            response = self.session.get(self.url, params=self.params, headers=headers, timeout=10, verify=self.verify)
            if response.status_code not in (200, 304):
                raise requests.HTTPError(f"HTTP {response.status_code}")
        except requests.RequestException as error:  # unreachable: stale once silent for long enough
            self._problem(f"cannot reach {self.url}: {str(error)[:200] or type(error).__name__}")
            return
        if response.status_code == 200:
            try:
                answer = response.json()
                worst = answer["worst"]
                if worst not in states.SEVERITY:
                    raise ValueError(f"unknown state {str(worst)[:40]!r}")
            except (ValueError, KeyError, TypeError, RecursionError) as error:  # an answer it cannot read: error now
                self.worst, self.etag = "error", None
                self._problem(f"cannot read the answer of {self.url}: {str(error)[:200] or type(error).__name__}")
                self.last_ok = time.monotonic()
                return
            self.worst, self.etag, self.demo = worst, response.headers.get("ETag"), answer.get("demo") is True
            self.acknowledged = answer.get("worst_acknowledged") is True
            self.figures = _remote_figures(answer, worst)
        self.last_ok, self.problem = time.monotonic(), ""

    def _problem(self, problem: str) -> None:
        if problem != self.problem:
            logger.warning("%s", problem)
        self.problem = problem

    def decide(self, now: datetime) -> Decision:
        self.poll()
        again = now + timedelta(seconds=self.poll_seconds)
        silent = time.monotonic() - self.last_ok > 3 * self.poll_seconds
        if self.worst is None or silent:
            return Decision("stale", self.problem or "the dashboard stopped answering", again)
        return Decision(self.worst, self.problem, again, self.demo, self.acknowledged, self.figures)


def _remote_figures(answer: dict[str, Any], worst: str) -> Figures:
    """The counts a remote dashboard's board carries (what is missing or malformed counts as nothing)."""
    counts = answer.get("counts") if isinstance(answer.get("counts"), dict) else {}
    breached = answer.get("breached")
    age = None
    since = timefmt.parse(answer.get("data_as_of"))
    if since is not None:
        age = max(0.0, (timefmt.now() - since).total_seconds())
    return Figures(worst, breached if type(breached) is int else 0,
                   {k: v for k, v in counts.items() if k in states.SEVERITY_OF_TICKET and type(v) is int},
                   age, answer.get("stale") is not False)


class Blinky(WakeLoop):
    def __init__(self, config: Config, source: Source, lights: Lights | None,
                 clock: Callable[[], datetime] = timefmt.now, mqtt: MqttOutput | None = None) -> None:
        super().__init__(config.blinky.debounce_seconds)
        self.config = config
        self.source = source
        self.lights = lights
        self.clock = clock
        self.effects = config.effects
        self.shown: tuple[str, Effect] | None = None
        self.sent_at = float("-inf")
        self.status: dict[str, Any] = {}
        self.mqtt = mqtt

    def effect_for(self, state: str, now: datetime, demo: bool = False, acknowledged: bool = False) -> Effect:
        """The state's effect; steady when someone is on every ticket in it; dim and steady in quiet
        hours, and on a real light showing the demo helpdesk (a desk must not strobe red for simulated
        breaches) unless ``demo_light`` asks."""
        effect = self.effects[state]
        if acknowledged:
            effect = Effect(effect.rgb, False)
        calm = demo and self.lights is not None and not self.config.blinky.demo_light
        if calm or in_quiet_hours(self.config.blinky.quiet_hours, now.astimezone().time()):
            return effect.quiet(self.config.blinky.quiet_brightness)
        return effect

    def step(self) -> Decision:
        """Decide, and bring the light (and the status file) up to date.

        Fails closed: when deciding raises, the light shows ``error``, never the last colour.
        """
        now = self.clock()
        try:
            decision = self.source.decide(now)
        except Exception as error:
            logger.exception("judging the board failed; the light shows error")
            decision = Decision("error", f"internal error while judging: {type(error).__name__}",
                                now + timedelta(seconds=LOOK_FOR_LIGHT_SECONDS))
        effect = self.effect_for(decision.state, now, decision.demo, decision.acknowledged)
        resend_due = time.monotonic() - self.sent_at >= self.config.blinky.resend_seconds
        lost = self.lights is not None and self.lights.missing()
        if (decision.state, effect) != self.shown or resend_due or lost:
            if (decision.state, effect) != self.shown:
                logger.info("light: %s (%s)%s", decision.state, effect, f": {decision.reason}" if decision.reason else "")
            self.show(decision.state, effect, decision.reason, decision.demo)
        if self.mqtt is not None:  # its own thread talks to the broker: never a wait here
            figures = decision.figures
            self.mqtt.publish(figures if figures is not None and figures.worst == decision.state
                              else Figures(decision.state))
        return decision

    def show(self, state: str, effect: Effect, reason: str, demo: bool = False) -> None:
        written = self.lights.show(effect) if self.lights is not None else 0
        self.shown, self.sent_at = (state, effect), time.monotonic()
        status = {"state": state, "effect": str(effect), "rgb": list(effect.rgb), "strobe": effect.strobe,
                  "device": "luxafor" if written else "simulated", "lights": written, "reason": reason,
                  "demo": demo}
        if status != self.status:
            self.status = status
            write_status(self.config.blinky.status_file, {**status, "since": timefmt.format(self.clock())})

    def run(self) -> None:
        """Until stop(): react to changes, wake for time-driven ones, re-send, re-find lost lights."""
        self.source.start(self.wake)
        super().run()

    def turn(self) -> float:
        decision = self.step()
        timeout = self.config.blinky.resend_seconds
        if decision.wake_at is not None:
            timeout = min(timeout, max(0.0, (decision.wake_at - self.clock()).total_seconds()) + 0.05)
        if self.lights is not None and self.lights.missing():
            timeout = min(timeout, LOOK_FOR_LIGHT_SECONDS)
        return timeout

    def switch_off(self) -> None:
        """On the way out: the light goes dark and the status file says so."""
        if self.lights is not None:
            self.lights.show(OFF)
            self.lights.close()
        write_status(self.config.blinky.status_file, {
            "state": "off", "effect": str(OFF), "rgb": [0, 0, 0], "strobe": False,
            "device": self.status.get("device", "simulated"), "lights": 0,
            "reason": "blinky stopped", "since": timefmt.format(self.clock())})
