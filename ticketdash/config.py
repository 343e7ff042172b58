"""Configuration: one TOML file (plus two environment variables), validated once.

Every daemon calls :func:`load` at start-up and passes the resulting frozen
objects down; nothing deeper reads the file or the environment. A typo must
never be ignored, so an unknown section or key is an error, and every error
names the file and the key (``ConfigError``; the daemons exit 2 on it).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import ipaddress
import os
import re
import sys
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ticketdash import timefmt
from ticketdash.lights import DEFAULT_EFFECTS, Effect, parse_effect
from ticketdash.states import ALERT_STATES, BOARD_STATES, TICKET_STATES
from ticketdash.ticket import Ticket

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "ticketdash.toml"
CONFIG_ENV = "TICKETDASH_CONFIG"
API_KEY_ENV = "FRESHSERVICE_API_KEY"  # Freshservice's; each source names its own (KEY_ENVS)
KEY_ENVS = {"freshservice": API_KEY_ENV, "freshdesk": "FRESHDESK_API_KEY", "zendesk": "ZENDESK_API_TOKEN"}
ACCOUNTS = {"freshservice": "freshservice", "freshdesk": "freshdesk", "zendesk": "zendesk", "demo": "freshservice"}
CREDENTIAL = "freshservice-api-key"  # the name systemd hands the key over by, whatever the source


class ConfigError(Exception):
    """An unusable configuration; the message names the file and the key."""


class Secret:
    """A string that does not print itself, so it cannot leak into logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def forms(self) -> tuple[str, ...]:
        """Every form the secret takes on the wire: itself, HTTP Basic's ``key:X``, and their base64."""
        raw = self._value
        if not raw:
            return ()
        basic = f"{raw}:X"
        encoded = [base64.b64encode(v.encode()).decode() for v in (basic, raw)]
        found = {raw, basic, *encoded, *(e.rstrip("=") for e in encoded)}
        return tuple(sorted(found, key=len, reverse=True))

    def mask(self, text: str) -> str:
        """*text* with every form of the secret replaced by ``***``."""
        for form in self.forms():
            text = text.replace(form, "***")
        return text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def _setting(default: Any, help: str, **checks: Any) -> Any:
    """A dataclass field carrying its one-line help and its checks (choices, min, max)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **checks})
    return field(default=default, metadata={"help": help, **checks})


class _Section:
    """A config section: a table setting names what it changes; its other keys keep their defaults."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, dict) and f.default_factory is not dataclasses.MISSING:
                object.__setattr__(self, f.name, {**f.default_factory(), **value})


@dataclass(frozen=True)
class WatcherSettings:
    source: str = _setting("freshservice", "where tickets come from",
                           choices=("freshservice", "freshdesk", "zendesk", "demo"))
    poll_seconds: float = _setting(0.0, "seconds between cycles (default 60; 5 for the demo)", min=0.0)
    full_sync_minutes: float = _setting(60.0, "minutes between full reconciles", min=1.0)
    max_calls_per_minute: int = _setting(40, "ceiling of API calls per minute", min=1)
    ticket_types: list[str] = _setting([], "ticket types to mirror (any case); empty = the source's own: Incident and "
                                       "Service Request for Freshservice, every type for Freshdesk and Zendesk")
    workspace_ids: list[int] = _setting([], "workspaces to mirror; empty = primary, [0] = all", min=0)
    overlap_seconds: int = _setting(300, "how far back an incremental cycle re-reads", min=0)
    names_refresh_minutes: float = _setting(60.0, "minutes between agent/status/group refreshes", min=1.0)
    requester_lookups_per_cycle: int = _setting(20, "new requester IDs looked up per cycle at least; more when the minute's calls allow", min=0)
    timeout_seconds: float = _setting(30.0, "timeout of one API call", min=1.0)
    max_retries: int = _setting(4, "retries of a failed call before the cycle fails", min=0)
    retry_backoff_seconds: float = _setting(1.0, "first pause before a retry; doubles each time", min=0.0)
    cycle_timeout_seconds: float = _setting(900.0, "a cycle that takes longer fails (nothing changes)", min=10.0)
    max_archive_share: float = _setting(
        0.1, "a sweep leaving out more than this share of the known tickets (and at least 5) is suspect: "
        "each is confirmed one by one, this many per cycle, and none archived in bulk", min=0.0, max=1.0)
    archive_days: int = _setting(90, "days of archive/ kept (older days are pruned once a day; 0 = keep all)", min=0)

    @property
    def interval(self) -> float:
        """Seconds between cycles, with the source's own default."""
        if self.poll_seconds:
            return self.poll_seconds
        return 5.0 if self.source == "demo" else 60.0


@dataclass(frozen=True)
class FreshworksSettings:
    """A Freshworks account (Freshservice or Freshdesk): the same API layout and the same links."""

    domain: str = _setting("", "account domain, e.g. acme.freshservice.com or acme.freshdesk.com")
    base_url: str = _setting("", "replaces https://<domain> (tests, proxies)")
    api_key_file: Path = _setting(Path("token.txt"), "file holding the API key")
    portal_url: str = _setting("", "base of ticket links (default https://<domain>)")

    @property
    def api_url(self) -> str:
        base = self.base_url or f"https://{self.domain}"
        return base.rstrip("/") + "/api/v2"

    @property
    def ticket_link(self) -> str:
        base = self.portal_url or (f"https://{self.domain}" if self.domain else self.base_url)
        return base.rstrip("/") + "/a/tickets/{id}"

    @property
    def key_file(self) -> tuple[str, Path]:
        return "api_key_file", self.api_key_file


@dataclass(frozen=True)
class FreshserviceSettings(FreshworksSettings):
    pass


@dataclass(frozen=True)
class FreshdeskSettings(FreshworksSettings):
    pass


@dataclass(frozen=True)
class ZendeskSettings:
    subdomain: str = _setting("", "account subdomain: acme for acme.zendesk.com")
    base_url: str = _setting("", "replaces https://<subdomain>.zendesk.com (tests, proxies)")
    email: str = _setting("", "the agent the API token belongs to")
    api_token_file: Path = _setting(Path("zendesk-token.txt"), "file holding the API token")

    @property
    def api_url(self) -> str:
        return (self.base_url or f"https://{self.subdomain}.zendesk.com").rstrip("/") + "/api/v2"

    @property
    def ticket_link(self) -> str:
        base = f"https://{self.subdomain}.zendesk.com" if self.subdomain else self.base_url
        return base.rstrip("/") + "/agent/tickets/{id}"

    @property
    def key_file(self) -> tuple[str, Path]:
        return "api_token_file", self.api_token_file


@dataclass(frozen=True)
class PathSettings:
    tickets: Path = _setting(Path("../tickets"), "the data folder")
    names: Path = _setting(Path("."), "folder of the person-edited name files (agents.txt ...)")


@dataclass(frozen=True)
class RulesSettings(_Section):
    critical_hours: float = _setting(4.0, "due within this many hours: critical", min=0.0)
    warning_hours: float = _setting(12.0, "due within this many hours: warning", min=0.0)
    stale_after: float = _setting(0.0, "seconds after which data is stale (default 3 polls)", min=0.0)
    paused_statuses: list[str] = _setting(
        ["Pending", "On Hold", "Waiting on Customer", "Waiting on Third Party"],
        "status names that pause the SLA",
    )
    no_first_response_types: list[str] = _setting(
        ["Service Request"], "ticket types with no first-response target (any case); every other type has one")
    update_minutes: dict[str, float] = _setting(
        {"urgent": 30.0, "high": 2880.0, "medium": 4320.0, "low": 5760.0},
        "minutes without an update before a ticket needs attention, per priority",
    )


@dataclass(frozen=True)
class GuiSettings:
    host: str = _setting("127.0.0.1", "address to listen on")
    port: int = _setting(5001, "port to listen on", min=1, max=65535)
    threads: int = _setting(8, "waitress worker threads", min=1)
    title: str = _setting("Helpdesk", "the page's heading")
    default_view: str = _setting("all", "the view shown at /")
    refresh_seconds: float = _setting(2.0, "how often an open page asks for changes", min=0.5)
    page_seconds: float = _setting(10.0, "on the wall, rows that do not fit page through this often", min=2.0)
    chime: bool = _setting(False, "the page chimes on each new breach (Web Audio; kiosk.sh lets it play)")
    chime_quiet_hours: str = _setting("", "e.g. 19:00-07:00: no chime then (the TV's local time)")
    rescan_seconds: float = _setting(30.0, "full re-read of tickets/ as a safety net", min=1.0)
    waiting_on_agent_statuses: list[str] = _setting(
        ["Customer Responded", "Waiting on Agent"], "statuses of the Waiting on agent section"
    )
    other_statuses: list[str] = _setting(
        ["Pending", "On Hold", "Waiting on Customer", "Waiting on Third Party"],
        "statuses of the Other active section (the rest are Open)",
    )
    access_key_file: Path = _setting(Path("access_key.txt"), "kiosk access key (used only if the file exists)")
    allow_networks: list[str] = _setting([], "client networks allowed in, e.g. 10.0.0.0/8; empty = all")
    trusted_proxy: str = _setting("127.0.0.1", "the reverse proxy whose X-Forwarded-* headers are trusted")
    cert_file: Path = _setting(Path("cert.pem"), "TLS certificate for nginx")
    key_file: Path = _setting(Path("key.pem"), "TLS private key for nginx")


@dataclass(frozen=True)
class ViewSettings:
    title: str = _setting("", "heading of the view")
    groups: list[int] = _setting([], "only these group IDs")
    workspaces: list[int] = _setting([], "only these workspace IDs")
    types: list[str] = _setting([], "only these ticket types")
    helpdesks: list[str] = _setting([], "only these helpdesks (names in [helpdesks])")

    def matches(self, ticket: Ticket, agent: int | None = None) -> bool:
        """Whether *ticket* belongs on this view (and to *agent*, when one is given)."""
        return ((not self.helpdesks or ticket.helpdesk in self.helpdesks)
                and (not self.groups or ticket.group_id in self.groups)
                and (not self.workspaces or ticket.workspace_id in self.workspaces)
                and (not self.types or ticket.type in self.types)
                and (agent is None or ticket.agent_id == agent))


@dataclass(frozen=True)
class WallSettings:
    title: str = _setting("", "what the TV shows as its name (default: the wall's name)")
    views: list[str] = _setting(["all"], "the views this TV rotates through")
    rotate_seconds: float = _setting(30.0, "how long each view stays on screen", min=5.0)


@dataclass(frozen=True)
class BlinkySettings(_Section):
    device: str = _setting("auto", "which light", choices=("auto", "luxafor", "simulated"))
    status_file: Path = _setting(Path("../tickets/_light.json"), "where blinky says what it shows")
    path: str = _setting("", "drive only the light at this hidapi path; empty = every Luxafor")
    view: str = _setting("all", "follow this view's tickets only")
    agent: int = _setting(0, "follow this agent's tickets only (agent ID; 0 = everyone's)", min=0)
    effects: dict[str, str] = _setting(DEFAULT_EFFECTS, "board state -> colour and effect")
    quiet_hours: str = _setting("", "e.g. 19:00-07:00: dim and never strobing then (local time)")
    quiet_brightness: float = _setting(0.15, "brightness during quiet hours, 0-1", min=0.0, max=1.0)
    resend_seconds: float = _setting(60.0, "re-send the state this often (a light that lost power)", min=1.0)
    debounce_seconds: float = _setting(0.1, "wait this long after a file event for more", min=0.0)
    rescan_seconds: float = _setting(300.0, "full re-read of tickets/ as a safety net", min=1.0)
    remote_url: str = _setting("", "follow a dashboard over HTTP(S) instead of a tickets/ folder")
    remote_ca_file: Path | None = _setting(None, "CA or self-signed certificate to trust for remote_url")
    remote_access_key_file: Path | None = _setting(None, "the dashboard's kiosk access key")
    remote_poll_seconds: float = _setting(5.0, "how often to ask the remote dashboard", min=1.0)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class AlertSettings:
    database: Path | None = _setting(None, "the alerts daemon's own state: what it saw and sent "
                                           "(default: alerts-<tickets>/alerts.sqlite3 beside the tickets folder)")
    status_file: Path | None = _setting(None, "what the alerts daemon says of itself, for the wall "
                                              "(default: alerts-<tickets>/alerts.json beside the tickets folder)")
    burst: int = _setting(10, "more transitions than this within a minute become one digest message", min=1)
    channel_interval_seconds: float = _setting(1.0, "at most one message per channel this often (Slack: 1 s)",
                                               min=0.0)
    retry_max_seconds: float = _setting(300.0, "longest pause between retries of a failed delivery", min=1.0)
    rescan_seconds: float = _setting(300.0, "full re-read of tickets/ as a safety net behind file events", min=1.0)


@dataclass(frozen=True)
class RouteSettings:
    name: str = _setting("", "how logs and the wall name this route (default: route N)")
    urls: list[str] = _setting([], "Apprise URLs: slack://, workflows:// (Teams), mailto://, ntfy://, json:// ...")
    urls_file: Path | None = _setting(None, "a file of Apprise URLs, one per line (keeps webhooks out of the config)")
    states: list[str] = _setting([], "ticket states (fr_overdue ... attention) and board states (stale, error) "
                                     "that send", choices=ALERT_STATES)
    priorities: list[int] = _setting([], "only tickets of these priorities (1-4); empty = all", min=1, max=4)
    groups: list[int] = _setting([], "only tickets of these group IDs; empty = all")
    views: list[str] = _setting([], "only tickets on these views; empty = all")
    quiet_hours: str = _setting("", "e.g. 19:00-07:00: messages wait until the quiet hours end (local time)")
    recovered: bool = _setting(False, "also send when a ticket or the board leaves the state")


@dataclass(frozen=True)
class ReminderSettings:
    route: str = _setting("", "the route (by name) that gets one message with a section per agent; "
                              "empty and no agents_file = no reminders")
    agents_file: Path | None = _setting(None, "agent ID to Apprise URL lines (id:URL): each agent gets their own")
    time: str = _setting("09:00", "when, local time (HH:MM)")
    days: list[str] = _setting(["mon", "tue", "wed", "thu", "fri"], "on which days", choices=WEEKDAYS)
    states: list[str] = _setting(["fr_overdue", "overdue", "critical", "attention"], "which tickets need action",
                                 choices=TICKET_STATES)


@dataclass(frozen=True)
class SummarySettings:
    route: str = _setting("", "the route (by name) that gets the weekly summary; empty = none")
    day: str = _setting("mon", "on which day", choices=WEEKDAYS)
    time: str = _setting("09:00", "when, local time (HH:MM)")


@dataclass(frozen=True)
class LoggingSettings:
    level: str = _setting("INFO", "log level", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


SECTIONS: dict[str, type] = {
    "watcher": WatcherSettings,
    "freshservice": FreshserviceSettings,
    "freshdesk": FreshdeskSettings,
    "zendesk": ZendeskSettings,
    "paths": PathSettings,
    "rules": RulesSettings,
    "gui": GuiSettings,
    "blinky": BlinkySettings,
    "logging": LoggingSettings,
}


@dataclass(frozen=True)
class Config:
    path: Path
    watcher: WatcherSettings
    freshservice: FreshserviceSettings
    freshdesk: FreshdeskSettings
    zendesk: ZendeskSettings
    paths: PathSettings
    rules: RulesSettings
    gui: GuiSettings
    blinky: BlinkySettings
    logging: LoggingSettings
    views: dict[str, ViewSettings] = field(default_factory=dict)
    walls: dict[str, WallSettings] = field(default_factory=dict)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    routes: list[RouteSettings] = field(default_factory=list)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    api_key: Secret | None = None
    access_key: Secret | None = None
    effects: dict[str, Effect] = field(default_factory=dict)  # [blinky] effects, parsed: board state -> effect
    helpdesks: dict[str, Path] = field(default_factory=dict)  # [helpdesks]: label -> tickets folder

    @property
    def folders(self) -> dict[str, Path]:
        """The tickets folders the readers follow, by label ("" for the one of [paths] tickets)."""
        return dict(self.helpdesks) or {"": self.paths.tickets}

    @property
    def stale_after(self) -> float:
        return self.rules.stale_after or 3 * self.watcher.interval

    def require_source(self) -> Secret:
        """The source's key, after checking that its account is configured (the watcher needs both)."""
        source = self.watcher.source
        account = self.account
        if isinstance(account, ZendeskSettings):
            if not (account.subdomain or account.base_url):
                raise ConfigError(f'{self.path}: [zendesk] subdomain: required when source is "zendesk"')
            if not account.email:
                raise ConfigError(f'{self.path}: [zendesk] email: required when source is "zendesk"')
        elif not (account.domain or account.base_url):
            raise ConfigError(f'{self.path}: [{source}] domain: required when source is "{source}"')
        if self.api_key is None:
            key, file = account.key_file
            raise ConfigError(f"{self.path}: [{ACCOUNTS[source]}] {key}: {file} "
                              f"not found or empty (or set {KEY_ENVS[source]})")
        return self.api_key

    @property
    def account(self) -> FreshworksSettings | ZendeskSettings:
        """The configured source's account section."""
        return getattr(self, ACCOUNTS[self.watcher.source])  # type: ignore[no-any-return]

    @property
    def api_url(self) -> str:
        """The configured source's API (what the heartbeat calls the account)."""
        return self.account.api_url


def command_line(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, Config]:
    """Every command's start: its arguments plus --config, and the configuration it names.

    An unusable configuration ends the program here: one line on stderr, exit status 2.
    """
    parser.add_argument("--config", help="config file (default: $TICKETDASH_CONFIG or config/ticketdash.toml)")
    args = parser.parse_args(argv)
    try:
        return args, load(config_path(args.config, os.environ))
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None


def config_path(argument: str | None, environ: Mapping[str, str]) -> Path:
    """The config file: --config, else $TICKETDASH_CONFIG, else config/ticketdash.toml."""
    if argument:
        return Path(argument)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return DEFAULT_CONFIG


def load(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, check and resolve the configuration at *path*."""
    environ = os.environ if environ is None else environ
    path = Path(path).absolute()
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (copy config/ticketdash.example.toml)") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from None

    sections: dict[str, Any] = {}
    sections.update(_alerts(path, raw.pop("alerts", {})))
    walls = raw.pop("walls", {})
    views = raw.pop("views", {})
    helpdesks = _helpdesks(path, raw.pop("helpdesks", {}))
    if not isinstance(views, dict):
        raise ConfigError(f"{path}: views: expected [views.<slug>] tables")
    for name, value in raw.items():
        if name not in SECTIONS:
            known = ", ".join([*SECTIONS, "helpdesks", "views", "walls", "alerts"])
            raise ConfigError(f"{path}: [{name}]: unknown section (known: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {name}: expected a [{name}] section")
    for name, cls in SECTIONS.items():
        sections[name] = _build(path, name, cls, raw.get(name, {}))

    tickets = sections["paths"].tickets
    state = tickets.parent / f"alerts-{tickets.name}"  # beside the tickets folder, never in it
    sections["alerts"] = dataclasses.replace(
        sections["alerts"], database=sections["alerts"].database or state / "alerts.sqlite3",
        status_file=sections["alerts"].status_file or state / "alerts.json")
    sections["views"] = {}
    for slug, values in views.items():
        if not isinstance(values, dict) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug) or slug == "all":
            raise ConfigError(f"{path}: [views.{slug}]: a view is a table with a lower-case slug other than 'all'")
        view = _build(path, f"views.{slug}", ViewSettings, values)
        for name in view.helpdesks:
            if name not in helpdesks:
                raise ConfigError(f"{path}: [views.{slug}] helpdesks: no helpdesk {name!r} (name it in [helpdesks])")
        sections["views"][slug] = dataclasses.replace(view, title=view.title or slug.replace("-", " ").title())
    sections["walls"] = _walls(path, walls, sections["views"])
    gui: GuiSettings = sections["gui"]
    try:
        timefmt.parse_quiet_hours(gui.chime_quiet_hours)
    except ValueError as error:
        raise ConfigError(f"{path}: [gui] chime_quiet_hours: {error}") from None
    if gui.default_view != "all" and gui.default_view not in sections["views"]:
        raise ConfigError(f"{path}: [gui] default_view: no view {gui.default_view!r} (define [views.{gui.default_view}])")
    for network in gui.allow_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(f"{path}: [gui] allow_networks: {network!r} is not a network") from None
    effects = _effects(path, sections["blinky"])
    source = sections["watcher"].source
    key = (environ.get(KEY_ENVS.get(source, API_KEY_ENV), "").strip()
           or _credential(environ)
           or _read_secret(sections[ACCOUNTS[source]].key_file[1]))
    return Config(path=path, api_key=Secret(key) if key else None,
                  access_key=_access_key(path, gui.access_key_file), effects=effects, helpdesks=helpdesks, **sections)


def _helpdesks(path: Path, raw: Any) -> dict[str, Path]:
    """``[helpdesks]``: a short label for each helpdesk's folder, shown on the wall's rows."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: helpdesks: expected a [helpdesks] section")
    found: dict[str, Path] = {}
    for name, folder in raw.items():
        where = f"{path}: [helpdesks] {name}"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}", name):
            raise ConfigError(f"{where}: a helpdesk's name is up to 20 letters, digits and '-'")
        if not isinstance(folder, str) or not folder:
            raise ConfigError(f"{where}: expected the path of its tickets folder, got {folder!r}")
        resolved = (path.parent / folder).resolve()
        if resolved in found.values():
            raise ConfigError(f"{where}: another helpdesk already reads {resolved}")
        found[name] = resolved
    return found


def _effects(path: Path, blinky: BlinkySettings) -> dict[str, Effect]:
    """Every board state's effect; ConfigError naming the key for a bad one."""
    unknown = set(blinky.effects) - set(BOARD_STATES)
    if unknown:
        raise ConfigError(f"{path}: [blinky] effects.{sorted(unknown)[0]}: not a board state")
    effects = {}
    for state in BOARD_STATES:
        try:
            effects[state] = parse_effect(blinky.effects[state])
        except ValueError as error:
            raise ConfigError(f"{path}: [blinky] effects.{state}: {error}") from None
    return effects


def _walls(path: Path, raw: Any, views: dict[str, ViewSettings]) -> dict[str, WallSettings]:
    """``[walls.<name>]``: what each TV rotates through, at ``/wall/<name>``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: walls: expected [walls.<name>] tables")
    walls = {}
    for name, values in raw.items():
        if not isinstance(values, dict) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise ConfigError(f"{path}: [walls.{name}]: a wall is a table with a lower-case name")
        wall = _build(path, f"walls.{name}", WallSettings, values)
        for view in wall.views:
            if view != "all" and view not in views:
                raise ConfigError(f"{path}: [walls.{name}] views: no view {view!r} (define [views.{view}])")
        if not wall.views:
            raise ConfigError(f"{path}: [walls.{name}] views: a wall needs at least one view")
        walls[name] = dataclasses.replace(wall, title=wall.title or name.replace("-", " ").title())
    return walls


def _alerts(path: Path, raw: Any) -> dict[str, Any]:
    """``[alerts]`` with its ``[[alerts.routes]]``, ``[alerts.reminders]`` and ``[alerts.summary]``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: alerts: expected an [alerts] section")
    raw = dict(raw)
    routes_raw = raw.pop("routes", [])
    reminders_raw, summary_raw = raw.pop("reminders", {}), raw.pop("summary", {})
    if not isinstance(routes_raw, list) or not all(isinstance(r, dict) for r in routes_raw):
        raise ConfigError(f"{path}: [alerts] routes: expected [[alerts.routes]] tables")
    routes = []
    for number, values in enumerate(routes_raw, 1):
        label = values.get("name") if isinstance(values.get("name"), str) and values.get("name") else f"route {number}"
        route = _build(path, f"[alerts.routes] #{number} ({label})", RouteSettings, values, framed=True)
        route = dataclasses.replace(route, name=label)
        where = f"{path}: [[alerts.routes]] #{number} ({label})"
        if not route.urls and route.urls_file is None:
            raise ConfigError(f"{where} urls: a route needs urls or urls_file")
        if not route.states:
            raise ConfigError(f"{where} states: a route needs at least one state")
        if route.name in {r.name for r in routes}:
            raise ConfigError(f"{where} name: another route has this name")
        routes.append(route)
    for key, table in (("reminders", reminders_raw), ("summary", summary_raw)):
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [alerts.{key}]: expected a table")
    result = {
        "alerts": _build(path, "alerts", AlertSettings, raw),
        "routes": routes,
        "reminders": _build(path, "alerts.reminders", ReminderSettings, reminders_raw),
        "summary": _build(path, "alerts.summary", SummarySettings, summary_raw),
    }
    names = {r.name for r in routes}
    for key in ("reminders", "summary"):
        if result[key].route and result[key].route not in names:
            raise ConfigError(f"{path}: [alerts.{key}] route: no route named {result[key].route!r}")
    return result


def _credential(environ: Mapping[str, str]) -> str:
    """The key systemd handed over with LoadCredential=freshservice-api-key:... (if any)."""
    folder = environ.get("CREDENTIALS_DIRECTORY")
    return _read_secret(Path(folder) / CREDENTIAL) if folder else ""


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _access_key(config: Path, path: Path) -> Secret | None:
    """The kiosk key: none when the file is absent; a file that is there but unusable is an error,
    never a silently open dashboard."""
    where = f"{config}: [gui] access_key_file: {path}"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ConfigError(f"{where}: cannot be read ({reason}); the dashboard will not run open") from None
    if not value:
        raise ConfigError(f"{where}: is empty; put a key in it or remove it")
    return Secret(value)


def _build(path: Path, section: str, cls: type, values: dict[str, Any], framed: bool = False) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    label = section if framed else f"[{section}]"
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"{path}: {label} {key}: unknown key (known: {', '.join(fields)})")
        where = f"{path}: {label} {key}"
        kwargs[key] = _convert(where, hints[key], value, fields[key].metadata)
    for name, f in fields.items():
        if hints[name] in (Path, Path | None):
            value = kwargs.get(name, f.default)
            kwargs[name] = None if value is None else (path.parent / value).resolve()
    return cls(**kwargs)


def _convert(where: str, hint: Any, value: Any, meta: Mapping[str, Any]) -> Any:
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_convert(where, item, v, meta) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return {str(k).lower(): _convert(f"{where}.{k}", item, v, meta) for k, v in value.items()}
    if hint in (Path, Path | None):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: expected a path, got {value!r}")
        return Path(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint in (int, float):
        ok = isinstance(value, int) if hint is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if hint is int else "a number"
            raise ConfigError(f"{where}: expected {kind}, got {value!r}")
        if "min" in meta and value < meta["min"]:
            raise ConfigError(f"{where}: must be at least {meta['min']}, got {value!r}")
        if "max" in meta and value > meta["max"]:
            raise ConfigError(f"{where}: must be at most {meta['max']}, got {value!r}")
        return hint(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        if "choices" in meta and value not in meta["choices"]:
            choices = ", ".join(f'"{c}"' for c in meta["choices"])
            raise ConfigError(f"{where}: must be one of {choices}, got {value!r}")
        return value
    raise AssertionError(f"unsupported setting type {hint!r}")  # a programming error, not input



def reference() -> str:
    """Every setting as a Markdown table (the README's configuration reference is this text)."""
    rows = ["| key | default | what it does |", "| --- | --- | --- |"]
    for name, cls in [*SECTIONS.items(), ("views.<slug>", ViewSettings), ("walls.<name>", WallSettings),
                      ("alerts", AlertSettings),
                      ("[alerts.routes]", RouteSettings), ("alerts.reminders", ReminderSettings),
                      ("alerts.summary", SummarySettings)]:
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                default = f.default
            else:
                default = f.default_factory()  # type: ignore[misc]
            shown = "(none)" if default is None or default == "" else _toml(default)
            rows.append(f"| `[{name}] {f.name}` | `{shown}` | {f.metadata['help']} |")
    return "\n".join(rows)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Path, str)):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


if __name__ == "__main__":
    print(reference())
