"""Every setting: its section, name, type, default, one line of help and its checks, in one table.

`ticketdash.config` turns a TOML file into these frozen objects; the README's
reference is :func:`reference` (``python -m ticketdash.settings``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ticketdash import timefmt
from ticketdash.lights import DEFAULT_EFFECTS
from ticketdash.states import ALERT_STATES, TICKET_STATES
from ticketdash.ticket import Ticket
from ticketdash.timefmt import Window

def _setting(default: Any, help: str, **checks: Any) -> Any:
    """A dataclass field carrying its one-line help and its checks (choices, min, max), or *parse*:
    the function that turns the file's text into the setting's value (ValueError: not one)."""
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
    webhook_port: int = _setting(0, "take pushes (Freshservice's Workflow Automator) on this local port, behind "
                                    "nginx's /hooks/freshservice; 0 = polling only", min=0, max=65535)
    webhook_host: str = _setting("127.0.0.1", "address the push receiver listens on")
    webhook_secret_file: Path = _setting(Path("webhook_secret.txt"), "the secret a push carries in its "
                                         "X-Ticketdash-Secret header (needed when webhook_port is set)")

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
    write_api_key_file: Path | None = _setting(None, "a key that may assign tickets: turns on \"Assign to me\" "
                                                     "(the watcher alone reads it and writes to Freshservice)")


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
    chime_quiet_hours: Window | None = _setting(None, "e.g. 19:00-07:00: no chime then (the TV's local time)",
                                                parse=timefmt.parse_quiet_hours)
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
    server_names: list[str] = _setting([], "host names the TVs use, beside this box's own names and any IP address "
                                           "(others are refused: DNS rebinding)")
    cert_file: Path = _setting(Path("cert.pem"), "TLS certificate for nginx")
    key_file: Path = _setting(Path("key.pem"), "TLS private key for nginx")
    public_url: str = _setting("", "how agents reach the dashboard, e.g. https://wall.example.lan: alerts then "
                                   "carry a signed Acknowledge link")
    ack_minutes: int = _setting(60, "how long an \"on it\" lasts unless the agent says", min=1, max=10080)
    session_hours: float = _setting(12.0, "an agent's sign-in lasts this long", min=0.1, max=720.0)
    database: Path | None = _setting(None, "the dashboard's own state: operators, acks, audit "
                                           "(default: dashboard-<tickets>/dashboard.sqlite3 beside the tickets folder)")
    acks_file: Path | None = _setting(None, "the current acks, for the light and the alerts "
                                            "(default: dashboard-<tickets>/acks.json beside the tickets folder)")
    claims_dir: Path | None = _setting(None, "claims waiting for the watcher "
                                             "(default: dashboard-<tickets>/claims/ beside the tickets folder)")


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
    quiet_hours: Window | None = _setting(None, "e.g. 19:00-07:00: dim and never strobing then (local time)",
                                          parse=timefmt.parse_quiet_hours)
    quiet_brightness: float = _setting(0.15, "brightness during quiet hours, 0-1", min=0.0, max=1.0)
    demo_light: bool = _setting(False, "show the built-in demo helpdesk's states on a real light at full strength "
                                       "(by default it stays dim and steady)")
    resend_seconds: float = _setting(60.0, "re-send the state this often (a light that lost power)", min=1.0)
    debounce_seconds: float = _setting(0.1, "wait this long after a file event for more", min=0.0)
    rescan_seconds: float = _setting(300.0, "full re-read of tickets/ as a safety net", min=1.0)
    remote_url: str = _setting("", "follow a dashboard over HTTP(S) instead of a tickets/ folder")
    remote_ca_file: Path | None = _setting(None, "CA or self-signed certificate to trust for remote_url")
    remote_access_key_file: Path | None = _setting(None, "the dashboard's kiosk access key")
    remote_allow_http: bool = _setting(False, "send the key to a remote_url over plain http:// (not loopback)")
    remote_poll_seconds: float = _setting(5.0, "how often to ask the remote dashboard", min=1.0)
    touch_token_file: Path | None = _setting(None, "an operator's token (python -m gui operators add): a Luxafor "
                                                   "Mute's touch acknowledges what its light shows; without it a "
                                                   "touch only calms this light")
    dashboard_url: str = _setting("", "where a touch acknowledges (default: remote_url, else this box's dashboard)")


@dataclass(frozen=True)
class LightSettings:
    """One of several lights on this host (``[[blinky.lights]]``), each following its own part of the board."""
    name: str = _setting("", "the light's name, in logs, the status file and --list")
    port: str = _setting("auto", "the USB port it is plugged into, as --list shows it (e.g. 1-1.4: it survives "
                                 "re-plugging); auto = the only Luxafor")
    view: str = _setting("all", "follow this view's tickets only")
    agent: int = _setting(0, "follow this agent's tickets only (agent ID; 0 = everyone's)", min=0)
    helpdesk: str = _setting("", "follow this helpdesk's tickets only (a name in [helpdesks])")
    wall: str = _setting("", "follow every view of this wall ([walls.<name>])")


@dataclass(frozen=True)
class MqttSettings:
    host: str = _setting("", "the MQTT broker; with an [mqtt] section 127.0.0.1 unless set (no section: no MQTT)")
    port: int = _setting(1883, "the broker's port", min=1, max=65535)
    discovery_prefix: str = _setting("homeassistant", "Home Assistant's MQTT discovery prefix")
    node_id: str = _setting("ticketdash", "this wall in topics and in Home Assistant (letters, digits, _ and -)")
    username: str = _setting("", "user name at the broker; empty = none")
    password_file: Path | None = _setting(None, "file holding the broker password")
    tls: bool = _setting(False, "connect with TLS")
    ca_file: Path | None = _setting(None, "CA certificate to trust for TLS (default: the system's)")


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
    quiet_hours: Window | None = _setting(None, "e.g. 19:00-07:00: messages wait until the quiet hours end "
                                                "(local time)", parse=timefmt.parse_quiet_hours)
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
class SlackSettings:
    """Alerts with a real "On it" button in Slack, through Socket Mode: no public URL needed."""
    app_token_file: Path | None = _setting(None, "the app-level token (xapp-, scope connections:write), for Socket "
                                                 "Mode; with it, routes may send to slack-buttons://")
    bot_token_file: Path | None = _setting(None, "the bot token (xoxb-, scope chat:write) that posts the alerts")
    channel: str = _setting("", "the channel ID the bot posts to (e.g. C0123ABCD)")
    users_file: Path | None = _setting(None, "who clicked: Slack user ID to operator lines (U0123ABCD:Ada Lovelace)")
    relay_token_file: Path | None = _setting(None, "a relay operator's token (python -m gui operators add NAME "
                                                   "--role relay): says \"on it\" for the operator who clicked")
    dashboard_url: str = _setting("", "where a click acknowledges (default: this box's dashboard)")
    api_url: str = _setting("https://slack.com/api/", "Slack's Web API (a test's fake Slack)")


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
    "mqtt": MqttSettings,
    "logging": LoggingSettings,
}


def reference() -> str:
    """Every setting as a Markdown table (the README's configuration reference is this text)."""
    rows = ["| key | default | what it does |", "| --- | --- | --- |"]
    for name, cls in [*SECTIONS.items(), ("views.<slug>", ViewSettings), ("walls.<name>", WallSettings),
                      ("alerts", AlertSettings),
                      ("[blinky.lights]", LightSettings),
                      ("[alerts.routes]", RouteSettings), ("alerts.reminders", ReminderSettings),
                      ("alerts.summary", SummarySettings), ("alerts.slack", SlackSettings)]:
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
