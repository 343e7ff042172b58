"""Deciding what the light shows, and keeping it shown.

The state comes from the shared rules over the tickets/ folder (kept in
memory by file events), or from a remote dashboard's ``/api/board``. The
loop wakes on a file event (debounced), at the next moment a state can
change by time alone, to re-send the state, and to look for a lost light.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, NamedTuple, Protocol

import requests

from ticketdash import states, timefmt
from ticketdash.acks import ACKABLE
from ticketdash.board import LiveBoard
from ticketdash.config import Config
from ticketdash.settings import LightSettings, ViewSettings
from ticketdash.ticket import Ticket
from ticketdash.daemon import WakeLoop, write_status
from ticketdash.timefmt import in_quiet_hours
from ticketdash.lights import OFF, Effect
from blinky.device import Lights
from blinky.mqtt import Figures, MqttOutput

logger = logging.getLogger(__name__)

LOOK_FOR_LIGHT_SECONDS = 5.0
TOUCH_SETTLE_SECONDS = 2.0  # a touch is two reports (press, release): one touch


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str
    wake_at: datetime | None = None  # when time alone can change it
    demo: bool = False  # the data is the built-in demo helpdesk's
    acknowledged: bool = False  # someone is on every ticket in this state: its colour, without strobing
    figures: Figures | None = None  # the board's counts, for Home Assistant
    tickets: tuple[tuple[str, int], ...] = ()  # (helpdesk, id) of the unacknowledged tickets in this state


class Part(NamedTuple):
    """What one light follows: the tickets it keeps, and the agent it names (for an unknown id: error)."""
    keep: Callable[[Ticket], bool]
    agent: int | None


def part_of(config: Config, light: LightSettings) -> Part:
    """A ``[[blinky.lights]]`` table's part of the board: its view, agent, helpdesk, wall, all at once."""
    views = config.all_views
    wall = [views[slug] for slug in config.walls[light.wall].views] if light.wall else []
    view, agent = views[light.view], light.agent or None

    def keep(ticket: Ticket) -> bool:
        return (view.matches(ticket, agent) and (not light.helpdesk or ticket.helpdesk == light.helpdesk)
                and (not wall or any(v.matches(ticket) for v in wall)))
    return Part(keep, agent)


class Source(Protocol):
    def start(self, on_change: Callable[[], None]) -> None: ...

    def decide(self, now: datetime, part: Part | None = None) -> Decision: ...

    def stop(self) -> None: ...


class FolderSource:
    """The tickets/ folder, judged by the shared board module, as the page judges it; one folder
    watched for every light, each judging its own part."""

    def __init__(self, config: Config, view: ViewSettings, agent: int | None) -> None:
        self.part = Part(lambda ticket: view.matches(ticket, agent), agent)
        self.board = LiveBoard(config, config.blinky.rescan_seconds)

    def start(self, on_change: Callable[[], None] | None) -> None:
        if on_change is None:  # one look, no watching
            self.board.look()
        else:
            self.board.follow(on_change)

    def stop(self) -> None:
        self.board.stop()

    def decide(self, now: datetime, part: Part | None = None) -> Decision:
        keep, agent = part or self.part
        verdict = self.board.verdict(now, keep, agent)
        figures = Figures(verdict.worst, verdict.breached, dict(verdict.counts), verdict.data_age_seconds(),
                          verdict.status != "ok")
        tickets = tuple((row.desk.name, row.id) for row in verdict.rows() if row.state == verdict.worst and row.ack is None)
        return Decision(verdict.worst, verdict.reason, verdict.valid_until, verdict.demo, verdict.worst_acknowledged,
                        figures, tickets)


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
        self.tickets: tuple[tuple[str, int], ...] = ()
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
            self.tickets = _remote_tickets(answer, worst)
        self.last_ok, self.problem = time.monotonic(), ""

    def _problem(self, problem: str) -> None:
        if problem != self.problem:
            logger.warning("%s", problem)
        self.problem = problem

    def decide(self, now: datetime, part: Part | None = None) -> Decision:
        """The dashboard's board, as the URL's view and agent have it (a remote has one part)."""
        self.poll()
        again = now + timedelta(seconds=self.poll_seconds)
        silent = time.monotonic() - self.last_ok > 3 * self.poll_seconds
        if self.worst is None or silent:
            return Decision("stale", self.problem or "the dashboard stopped answering", again)
        return Decision(self.worst, self.problem, again, self.demo, self.acknowledged, self.figures, self.tickets)


def _remote_tickets(answer: dict[str, Any], worst: str) -> tuple[tuple[str, int], ...]:
    """The unacknowledged tickets in the worst state, as (helpdesk, id), from a remote board."""
    found = []
    sections = answer.get("sections") if isinstance(answer.get("sections"), list) else []
    for section in sections:
        tickets = section.get("tickets") if isinstance(section, dict) else None
        for t in tickets if isinstance(tickets, list) else []:
            if (isinstance(t, dict) and t.get("state") == worst and not t.get("ack") and type(t.get("id")) is int
                    and isinstance(t.get("helpdesk", ""), str)):
                found.append((t.get("helpdesk", ""), t["id"]))
    return tuple(found)


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


@dataclass
class Lamp:
    """One light: its name, what it follows (None: the [blinky] view and agent), the device it drives
    (None: simulated), and what it last showed."""
    name: str
    part: Part | None = None
    lights: Lights | None = None
    port: str | None = None
    shown: tuple[str, Effect] | None = None
    sent_at: float = float("-inf")
    status: dict[str, Any] = field(default_factory=dict)
    decision: Decision | None = None
    touched_at: float = float("-inf")
    touch: str = ""  # what the last touch did
    calm: tuple[str, datetime] | None = None  # a touch without a token: steady in this state until then


class Blinky(WakeLoop):
    def __init__(self, config: Config, source: Source, lights: Lights | None,
                 clock: Callable[[], datetime] = timefmt.now, mqtt: MqttOutput | None = None,
                 lamps: list[Lamp] | None = None) -> None:
        super().__init__(config.blinky.debounce_seconds)
        self.config = config
        self.source = source
        self.lamps = lamps or [Lamp("light", lights=lights)]
        self.decisions: list[Decision] = []
        self.clock = clock
        self.effects = config.effects
        self.status: dict[str, Any] = {}
        self.mqtt = mqtt
        self.changed = True  # a file event since the last step
        self.due = 0.0  # monotonic time of the next step that time alone asks for
        for lamp in self.lamps:
            if lamp.lights is not None:
                lamp.lights.listen(lambda lamp=lamp: self.touched(lamp))

    def effect_for(self, state: str, now: datetime, demo: bool = False, acknowledged: bool = False,
                   real: bool = False) -> Effect:
        """The state's effect; steady when someone is on every ticket in it; dim and steady in quiet
        hours, and on a real light showing the demo helpdesk (a desk must not strobe red for simulated
        breaches) unless ``demo_light`` asks."""
        effect = self.effects[state]
        if acknowledged:
            effect = Effect(effect.rgb, False)
        calm = demo and real and not self.config.blinky.demo_light
        if calm or in_quiet_hours(self.config.blinky.quiet_hours, now.astimezone().time()):
            return effect.quiet(self.config.blinky.quiet_brightness)
        return effect

    def step(self) -> Decision:
        """Decide, and bring every light (and the status file) up to date; the first light's decision.

        Fails closed: when deciding raises, that light shows ``error``, never the last colour. One
        light that fails (unplugged, its driver raising) is logged and retried, never holding up the rest.
        """
        now = self.clock()
        decisions = [self._step(lamp, now) for lamp in self.lamps]
        self._write_status()
        decision = decisions[0]
        if self.mqtt is not None:  # its own thread talks to the broker: never a wait here
            figures = decision.figures
            self.mqtt.publish(figures if figures is not None and figures.worst == decision.state
                              else Figures(decision.state),
                              {lamp.name: d.state for lamp, d in zip(self.lamps, decisions)} if len(self.lamps) > 1 else None)
        self.decisions = decisions
        return decision

    def _step(self, lamp: Lamp, now: datetime) -> Decision:
        try:
            decision = self.source.decide(now, lamp.part)
        except Exception as error:
            logger.exception("judging the board failed; the light %s shows error", lamp.name)
            decision = Decision("error", f"internal error while judging: {type(error).__name__}",
                                now + timedelta(seconds=LOOK_FOR_LIGHT_SECONDS))
        lamp.decision = decision
        calm = lamp.calm is not None and lamp.calm[0] == decision.state and now < lamp.calm[1]
        effect = self.effect_for(decision.state, now, decision.demo, decision.acknowledged or calm,
                                 lamp.lights is not None)
        resend_due = time.monotonic() - lamp.sent_at >= self.config.blinky.resend_seconds
        lost = lamp.lights is not None and lamp.lights.missing()
        if (decision.state, effect) != lamp.shown or resend_due or lost:
            if (decision.state, effect) != lamp.shown:
                logger.info("%s: %s (%s)%s", lamp.name, decision.state, effect,
                            f": {decision.reason}" if decision.reason else "")
            self.show(lamp, decision.state, effect, decision.reason, decision.demo)
        return decision

    def show(self, lamp: Lamp, state: str, effect: Effect, reason: str, demo: bool = False) -> None:
        try:
            written = lamp.lights.show(effect) if lamp.lights is not None else 0
        except Exception:  # a driver's own failure: this light alone waits for the next look
            logger.exception("the light %s failed; trying again", lamp.name)
            written = 0
        lamp.shown, lamp.sent_at = (state, effect), time.monotonic()
        before = lamp.status.get("reason")
        lamp.status = {"state": state, "effect": str(effect), "rgb": list(effect.rgb), "strobe": effect.strobe,
                       "device": "luxafor" if written else "simulated", "lights": written, "reason": reason,
                       "demo": demo}
        if lamp.port:
            lamp.status.update(name=lamp.name, port=lamp.port)
            if not written and lamp.lights is not None:
                lamp.status["reason"] = self._not_there(lamp)
                if lamp.status["reason"] != before:  # said once, not at every look
                    logger.warning("light %s: %s", lamp.name, lamp.status["reason"])

    def _not_there(self, lamp: Lamp) -> str:
        """Why a light at a port is dark: nothing there, or (by name) a Luxafor at a port no light claims."""
        assert lamp.lights is not None
        taken = {other.port for other in self.lamps}
        free = sorted(str(info["port"]) for info in lamp.lights.listing() if info["port"] not in taken)
        if free:
            return f"no light at port {lamp.port}; a Luxafor is at {', '.join(free)}: moved? set its port"
        return f"no light at port {lamp.port}"

    def _write_status(self) -> None:
        """The first light's status (the page's virtual light shows it), and every light's under ``outputs``."""
        statuses = [{**lamp.status, **({"touch": lamp.touch} if lamp.touch else {})} for lamp in self.lamps]
        status = dict(statuses[0])
        if len(self.lamps) > 1:
            status["outputs"] = statuses
        if status != self.status:
            self.status = status
            write_status(self.config.blinky.status_file, {**status, "since": timefmt.format(self.clock())})

    def touched(self, lamp: Lamp) -> None:
        """A Mute's touch (in its reader's thread): acknowledge the tickets its light shows, through the
        dashboard with the operator's token; without a token, only calm this light, and say so."""
        if time.monotonic() - lamp.touched_at < TOUCH_SETTLE_SECONDS:
            return
        lamp.touched_at = time.monotonic()
        if self.mqtt is not None:
            self.mqtt.touched(lamp.name)
        decision, now = lamp.decision, self.clock()
        at = now.astimezone().strftime("%H:%M")
        if decision is None or decision.state not in ACKABLE or not decision.tickets:
            lamp.touch = f"touched at {at}: nothing to acknowledge"
        elif self.config.touch_token is None:
            until = now + timedelta(minutes=self.config.gui.ack_minutes)
            lamp.calm = (decision.state, until)
            lamp.touch = (f"touched at {at}: steady here until {until.astimezone():%H:%M}; the wall and the alerts "
                          "do not know (no [blinky] touch_token_file)")
        else:
            lamp.touch = f"touched at {at}: " + acknowledge(self.config, decision.tickets)
        logger.info("%s: %s", lamp.name, lamp.touch)
        self.wake()

    def run(self) -> None:
        """Until stop(): react to changes, wake for time-driven ones, re-send, re-find lost lights."""
        self.source.start(self.wake)
        super().run()

    def wake(self) -> None:
        self.changed = True
        super().wake()

    def turn(self) -> float:
        """A step when something changed or is due; between steps, lights at ports are only looked
        for (plugged, pulled, moved), which costs one enumeration and no judging."""
        ported = [lamp.lights for lamp in self.lamps if lamp.port and lamp.lights is not None]
        changed, self.changed = self.changed, False
        if not changed and time.monotonic() < self.due:
            listing = ported[0].listing() if ported else []
            if not [lights for lights in ported if lights.plugged_or_pulled(listing)]:
                return min(LOOK_FOR_LIGHT_SECONDS, self.due - time.monotonic())
        self.step()
        timeout = self.config.blinky.resend_seconds
        for decision in self.decisions:
            if decision.wake_at is not None:
                timeout = min(timeout, max(0.0, (decision.wake_at - self.clock()).total_seconds()) + 0.05)
        if any(lamp.lights is not None and lamp.lights.missing() for lamp in self.lamps):
            timeout = min(timeout, LOOK_FOR_LIGHT_SECONDS)
        self.due = time.monotonic() + timeout
        return min(timeout, LOOK_FOR_LIGHT_SECONDS) if ported else timeout

    def switch_off(self) -> None:
        """On the way out: every light goes dark and the status file says so."""
        for lamp in self.lamps:
            if lamp.lights is not None:
                try:
                    lamp.lights.show(OFF)
                except Exception:
                    logger.exception("cannot switch the light %s off", lamp.name)
                lamp.lights.close()
        write_status(self.config.blinky.status_file, {
            "state": "off", "effect": str(OFF), "rgb": [0, 0, 0], "strobe": False,
            "device": self.status.get("device", "simulated"), "lights": 0,
            "reason": "blinky stopped", "since": timefmt.format(self.clock())})


def acknowledge(config: Config, tickets: tuple[tuple[str, int], ...]) -> str:
    """"On it" for each ticket, through the dashboard's acknowledge API as the touch token's operator;
    what happened, in words."""
    b = config.blinky
    base = (b.dashboard_url or b.remote_url or f"http://127.0.0.1:{config.gui.port}").rstrip("/")
    assert config.touch_token is not None
    headers = {"Authorization": f"Bearer {config.touch_token.reveal()}", "User-Agent": "ticketdash-blinky"}
    done, failed = [], []
    with requests.Session() as session:
        for helpdesk, ticket_id in tickets[:20]:
            name = f"{helpdesk} #{ticket_id}" if helpdesk else f"#{ticket_id}"
            body: dict[str, Any] = {"ticket": ticket_id, **({"helpdesk": helpdesk} if helpdesk else {})}
            try:
                answer = session.post(f"{base}/api/ack", json=body, headers=headers, timeout=10, allow_redirects=False,
                                      verify=str(b.remote_ca_file) if b.remote_ca_file else True)
            except requests.RequestException as error:
                failed.append(f"{name} (cannot reach the dashboard: {type(error).__name__})")
                continue
            if answer.status_code == 200:
                done.append(name)
            else:
                try:
                    why = str(answer.json().get("error", ""))[:120]
                except (ValueError, AttributeError):
                    why = ""
                failed.append(f"{name} (HTTP {answer.status_code}{': ' + why if why else ''})")
    words = [f"acknowledged {', '.join(done)}"] if done else []
    if failed:
        words.append(f"could not acknowledge {', '.join(failed)}")
    return "; ".join(words)
