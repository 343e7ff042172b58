"""Configuration: read one TOML file, then build and check it once into frozen, typed settings.

``read(path)`` gives the file's mapping; ``build(mapping, path)`` checks every
key and every reference between sections and resolves paths, keys and
defaults; ``load`` is both. Daemons receive only the result: nothing deeper
reads the file or the environment, or raises a configuration error. A typo
must never be ignored, so an unknown section or key is an error, and every
error names the file and the key (``ConfigError``; the daemons exit 2 on it).
The settings themselves are the table in `ticketdash.settings`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from ticketdash.lights import Effect, parse_effect
from ticketdash.secrets import KEY_ENVS, Secret, exposed, source_key
from ticketdash.settings import (SECTIONS, AlertSettings, BlinkySettings, FreshdeskSettings, FreshserviceSettings,
                                 FreshworksSettings, GuiSettings, LightSettings, LoggingSettings, MqttSettings, PathSettings,
                                 ReminderSettings, SlackSettings,
                                 RouteSettings, RulesSettings, SummarySettings, ViewSettings, WallSettings,
                                 WatcherSettings, ZendeskSettings)
from ticketdash.states import BOARD_STATES
from ticketdash.store import MAX_STATUS_BYTES, read_regular

MIN_KEY = 16  # characters of a kiosk key or a webhook secret

ACCOUNTS = {"freshservice": "freshservice", "freshdesk": "freshdesk", "zendesk": "zendesk", "demo": "freshservice"}
ALL = ViewSettings(title="All tickets")  # the view every reader has: every ticket


class ConfigError(Exception):
    """An unusable configuration; the message names the file and the key."""


SLACK_BUTTONS = "slack-buttons://"  # a route's channel: the Slack bot, with an "On it" button


@dataclass(frozen=True)
class SlackAccess:
    """What the Slack bot needs, read once: its tokens, the relay operator's token, who is who."""
    app_token: Secret
    bot_token: Secret
    relay_token: Secret
    users: dict[str, str]  # Slack user ID -> operator name


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
    mqtt: MqttSettings
    logging: LoggingSettings
    views: dict[str, ViewSettings] = field(default_factory=dict)
    walls: dict[str, WallSettings] = field(default_factory=dict)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    routes: list[RouteSettings] = field(default_factory=list)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    slack_access: SlackAccess | None = None  # [alerts.slack], read
    lights: list[LightSettings] = field(default_factory=list)  # [[blinky.lights]]
    api_key: Secret | None = None
    access_key: Secret | None = None
    webhook_secret: Secret | None = None  # [watcher] webhook_secret_file's, when webhook_port is set
    effects: dict[str, Effect] = field(default_factory=dict)  # [blinky] effects, parsed: board state -> effect
    helpdesks: dict[str, Path] = field(default_factory=dict)  # [helpdesks]: label -> tickets folder
    alert_urls: dict[str, tuple[str, ...]] = field(default_factory=dict)  # route name -> urls and urls_file's
    agent_urls: dict[int, str] = field(default_factory=dict)  # [alerts.reminders] agents_file: agent ID -> URL
    mqtt_password: Secret | None = None  # [mqtt] password_file's
    touch_token: Secret | None = None  # [blinky] touch_token_file's

    @property
    def all_views(self) -> dict[str, ViewSettings]:
        """Every view by slug, the built-in ``all`` first."""
        return {"all": ALL, **self.views}

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


def load(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, check and resolve the configuration at *path*. A link is followed first: an installed
    box links the code's config/ticketdash.toml to /etc/ticketdash, and paths are relative to that."""
    path = Path(path).resolve()
    return build(read(path), path, os.environ if environ is None else environ)


def read(path: Path) -> dict[str, Any]:
    """The TOML file at *path* as a mapping; ConfigError when it is missing or not TOML."""
    try:
        with Path(path).open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (copy config/ticketdash.example.toml)") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from None


def build(mapping: Mapping[str, Any], path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Check *mapping* (as if read from *path*: relative paths start at its folder) into a `Config`.

    Every check lives here, references between sections included, so that a
    daemon that starts has a configuration it can use.
    """
    environ = {} if environ is None else environ
    path = Path(path).absolute()
    raw = dict(mapping)
    sections: dict[str, Any] = {}
    sections.update(_alerts(path, raw.pop("alerts", {})))
    walls = raw.pop("walls", {})
    views = raw.pop("views", {})
    helpdesks = _helpdesks(path, raw.pop("helpdesks", {}))
    lights_raw: Any = []
    if isinstance(raw.get("blinky"), dict) and "lights" in raw["blinky"]:
        raw["blinky"] = dict(raw["blinky"])
        lights_raw = raw["blinky"].pop("lights")
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
    beside = tickets.parent  # the alerts' state lives beside the tickets folder, never in it
    sections["alerts"] = dataclasses.replace(
        sections["alerts"], database=sections["alerts"].database or beside / f"alerts-{tickets.name}" / "alerts.sqlite3",
        status_file=sections["alerts"].status_file or beside / f"alerts-{tickets.name}" / "alerts.json")
    mine = beside / f"dashboard-{tickets.name}"  # the dashboard's own state, also beside the tickets
    sections["gui"] = dataclasses.replace(sections["gui"], database=sections["gui"].database or mine / "dashboard.sqlite3",
                                          acks_file=sections["gui"].acks_file or mine / "acks.json",
                                          claims_dir=sections["gui"].claims_dir or mine / "claims")
    sections["views"] = {}
    for slug, values in views.items():
        if not isinstance(values, dict) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug) or slug == "all":
            raise ConfigError(f"{path}: [views.{slug}]: a view is a table with a lower-case slug other than 'all'")
        view = _build(path, f"views.{slug}", ViewSettings, values)
        for name in view.helpdesks:
            if name not in helpdesks:
                raise ConfigError(f"{path}: [views.{slug}] helpdesks: no helpdesk {name!r} (name it in [helpdesks])")
        sections["views"][slug] = dataclasses.replace(view, title=view.title or slug.replace("-", " ").title())
    known_views = {"all", *sections["views"]}
    sections["walls"] = _walls(path, walls, known_views)
    gui: GuiSettings = sections["gui"]
    if gui.default_view not in known_views:
        raise ConfigError(f"{path}: [gui] default_view: no view {gui.default_view!r} (define [views.{gui.default_view}])")
    for network in gui.allow_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(f"{path}: [gui] allow_networks: {network!r} is not a network") from None
    _check_blinky(path, sections["blinky"], known_views)
    sections["lights"] = _lights(path, lights_raw, sections["blinky"], known_views, sections["walls"], helpdesks)
    _check_gui(path, sections["gui"])
    sections["mqtt"] = _mqtt(path, sections["mqtt"], "mqtt" in raw)
    for number, route in enumerate(sections["routes"], 1):
        unknown = [v for v in route.views if v not in known_views]
        if unknown:
            raise ConfigError(f"{path}: [[alerts.routes]] #{number} ({route.name}) views: no view {unknown[0]!r} "
                              f"(define [views.{unknown[0]}])")
    source = sections["watcher"].source
    return Config(path=path, api_key=source_key(source, sections[ACCOUNTS[source]].key_file[1], environ),
                  webhook_secret=_webhook_secret(path, sections["watcher"]),
                  access_key=_access_key(path, gui.access_key_file), effects=_effects(path, sections["blinky"]),
                  helpdesks=helpdesks, alert_urls=_alert_urls(path, sections["routes"]),
                  agent_urls=_agent_urls(path, sections["reminders"]), mqtt_password=_mqtt_password(path, sections["mqtt"]),
                  touch_token=_touch_token(path, sections["blinky"]), **sections)


def check_urls(config: Config, problem: Callable[[str], str | None]) -> None:
    """Every alert URL against what the channels can deliver to (*problem*: the reason one cannot, or None);
    ConfigError naming the route or file and the key. Only the alerts know their channels."""
    for number, route in enumerate(config.routes, 1):
        for url in config.alert_urls[route.name]:
            reason = problem(url)
            if reason:
                key = "urls" if url in route.urls else "urls_file"
                raise ConfigError(f"{config.path}: [[alerts.routes]] #{number} ({route.name}) {key}: {reason}")
    for agent, url in config.agent_urls.items():
        reason = problem(url)
        if reason:
            raise ConfigError(f"{config.path}: [alerts.reminders] agents_file: {config.reminders.agents_file}: "
                              f"agent {agent}: {reason}")


def _webhook_secret(path: Path, watcher: WatcherSettings) -> Secret | None:
    """The pushes' shared secret: required, and at least 16 characters, once pushes are switched on."""
    if not watcher.webhook_port:
        return None
    where = f"{path}: [watcher] webhook_secret_file: {watcher.webhook_secret_file}"
    value = (_read(watcher.webhook_secret_file, where, "; webhook_port needs it", secret=True) or "").strip()
    if len(value) < MIN_KEY:
        raise ConfigError(f"{where}: needs a secret of at least 16 characters (python3 -c 'import secrets; "
                          f"print(secrets.token_urlsafe(24))')")
    return Secret(value)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _web_address(where: str, url: str, secret: str | None = None, allow_http: bool = False) -> None:
    """An http(s) address; one that *secret* (the key, the token ...) is sent to never over plain http://
    beyond this box, unless *allow_http*."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: must start with http:// or https://")
    if secret and url.startswith("http://") and not _loopback(urlsplit(url).hostname or "") and not allow_http:
        raise ConfigError(f"{where}: {secret} would cross the network in clear over http://; use https://"
                          + (" (or remote_allow_http = true)" if "[blinky]" in where else ""))


def _mqtt(path: Path, mqtt: MqttSettings, present: bool) -> MqttSettings:
    """An [mqtt] section switches MQTT on, at 127.0.0.1 unless it names a broker."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", mqtt.node_id):
        raise ConfigError(f"{path}: [mqtt] node_id: 1 to 40 letters, digits, _ or -, got {mqtt.node_id!r}")
    if not re.fullmatch(r"[A-Za-z0-9_/-]{1,100}", mqtt.discovery_prefix) or "//" in mqtt.discovery_prefix:
        raise ConfigError(f"{path}: [mqtt] discovery_prefix: a topic prefix such as homeassistant")
    return dataclasses.replace(mqtt, host=mqtt.host or "127.0.0.1") if present else mqtt


def _mqtt_password(path: Path, mqtt: MqttSettings) -> Secret | None:
    if not (mqtt.host and mqtt.password_file):
        return None
    text = _read(mqtt.password_file, f"{path}: [mqtt] password_file: {mqtt.password_file}", secret=True)
    return Secret((text or "").strip())


def write_key(config: Config) -> Secret | None:
    """The Freshservice key that may write (claims), for the watcher alone: read when it starts, never
    by the other daemons, which only need to know that claims are on."""
    where = f"{config.path}: [freshservice] write_api_key_file: {config.freshservice.write_api_key_file}"
    if config.freshservice.write_api_key_file is None:
        return None
    if not claims_on(config):
        raise ConfigError(f"{where}: claims work with one Freshservice helpdesk (not with {config.watcher.source}"
                          f"{' or [helpdesks]' if config.helpdesks else ''})")
    key = (_read(config.freshservice.write_api_key_file, where, secret=True) or "").strip()
    if not key:
        raise ConfigError(f"{where}: is empty")
    return Secret(key)


def claims_on(config: Config) -> bool:
    """Whether "Assign to me" is offered: a write key is configured for the one Freshservice helpdesk."""
    return (config.freshservice.write_api_key_file is not None and config.watcher.source == "freshservice"
            and not config.helpdesks)


def _touch_token(path: Path, blinky: BlinkySettings) -> Secret | None:
    """The operator's token a touch acknowledges with; it goes only to the dashboard, never in clear
    across the network."""
    if blinky.touch_token_file is None:
        return None
    where = f"{path}: [blinky] touch_token_file: {blinky.touch_token_file}"
    token = (_read(blinky.touch_token_file, where, secret=True) or "").strip()
    if not token:
        raise ConfigError(f"{where}: is empty (python -m gui operators add NAME prints a token)")
    url = blinky.dashboard_url or blinky.remote_url
    if url:
        _web_address(f"{path}: [blinky] dashboard_url", url, "the token", blinky.remote_allow_http)
    return Secret(token)


def _check_gui(path: Path, gui: GuiSettings) -> None:
    if gui.public_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", gui.public_url):
        raise ConfigError(f"{path}: [gui] public_url: expected https://<host>[/path], got {gui.public_url!r}")


def _check_blinky(path: Path, blinky: BlinkySettings, views: set[str]) -> None:
    if blinky.remote_url:
        _web_address(f"{path}: [blinky] remote_url", blinky.remote_url,
                     "the key" if blinky.remote_access_key_file else None, blinky.remote_allow_http)
    if blinky.remote_access_key_file:
        where = f"{path}: [blinky] remote_access_key_file: {blinky.remote_access_key_file}"
        _read(blinky.remote_access_key_file, where, secret=True)
    if blinky.view not in views:
        raise ConfigError(f"{path}: [blinky] view: no view {blinky.view!r}")


def light_id(name: str) -> str:
    """A light's name as topics and Home Assistant ids may spell it."""
    return re.sub(r"[^a-z0-9_-]", "_", name.lower())


def _lights(path: Path, raw: Any, blinky: BlinkySettings, views: set[str], walls: Mapping[str, Any],
            helpdesks: Mapping[str, Path]) -> list[LightSettings]:
    """``[[blinky.lights]]``: several lights on one host, each at its own USB port, each following its part."""
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise ConfigError(f"{path}: [blinky] lights: expected [[blinky.lights]] tables")
    lights: list[LightSettings] = []
    for number, values in enumerate(raw, 1):
        label = values.get("name") if isinstance(values.get("name"), str) and values.get("name") else f"light {number}"
        where = f"{path}: [[blinky.lights]] #{number} ({label})"
        light = _build(path, f"[blinky.lights] #{number} ({label})", LightSettings, values, framed=True)
        if not re.fullmatch(r"\w[\w '.-]{0,39}", light.name):
            raise ConfigError(f"{where} name: a light needs a name (letters, digits, space, ' _ . -; up to 40)")
        if light_id(light.name) in {light_id(other.name) for other in lights}:
            raise ConfigError(f"{where} name: another light has this name (or one spelled the same in MQTT topics)")
        if light.port != "auto" and not re.fullmatch(r"\d+-\d+(\.\d+)*", light.port):
            raise ConfigError(f"{where} port: expected a USB port such as 1-1.4 (python -m blinky --list), or auto")
        if light.port in {other.port for other in lights}:
            raise ConfigError(f"{where} port: another light is at {light.port}")
        if light.view not in views:
            raise ConfigError(f"{where} view: no view {light.view!r}")
        if light.wall and light.wall not in walls:
            raise ConfigError(f"{where} wall: no wall {light.wall!r} (define [walls.{light.wall}])")
        if light.helpdesk and light.helpdesk not in helpdesks:
            raise ConfigError(f"{where} helpdesk: no helpdesk {light.helpdesk!r} (name it in [helpdesks])")
        lights.append(light)
    if len(lights) > 1 and any(light.port == "auto" for light in lights):
        raise ConfigError(f"{path}: [[blinky.lights]] port: with several lights, each needs its USB port "
                          "(python -m blinky --list shows them)")
    if lights and (blinky.remote_url or blinky.path):
        key = "remote_url" if blinky.remote_url else "path"
        raise ConfigError(f"{path}: [blinky] {key}: not together with [[blinky.lights]], which name their own ports")
    return lights


def _alert_urls(path: Path, routes: list[RouteSettings]) -> dict[str, tuple[str, ...]]:
    """Each route's URLs: its ``urls`` and the lines of its ``urls_file``."""
    found = {}
    for number, route in enumerate(routes, 1):
        urls = list(route.urls)
        if route.urls_file is not None:
            where = f"{path}: [[alerts.routes]] #{number} ({route.name}) urls_file: {route.urls_file}"
            lines = (_read(route.urls_file, where, secret=True) or "").splitlines()
            from_file = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
            if not from_file:
                raise ConfigError(f"{where}: has no URL")
            urls += from_file
        found[route.name] = tuple(urls)
    return found


def _agent_urls(path: Path, reminders: ReminderSettings) -> dict[int, str]:
    """``id:URL`` lines: each agent's own channel for the daily reminder."""
    if reminders.agents_file is None:
        return {}
    where = f"{path}: [alerts.reminders] agents_file: {reminders.agents_file}"
    found = {}
    for number, line in enumerate((_read(reminders.agents_file, where, secret=True) or "").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, url = line.partition(":")
        if not key.strip().isdigit() or not url.strip():
            raise ConfigError(f"{where}:{number}: expected agent-id:URL")
        found[int(key)] = url.strip()
    return found


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


def _walls(path: Path, raw: Any, views: set[str]) -> dict[str, WallSettings]:
    """``[walls.<name>]``: what each TV rotates through, at ``/wall/<name>``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: walls: expected [walls.<name>] tables")
    walls = {}
    for name, values in raw.items():
        if not isinstance(values, dict) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise ConfigError(f"{path}: [walls.{name}]: a wall is a table with a lower-case name")
        wall = _build(path, f"walls.{name}", WallSettings, values)
        for view in wall.views:
            if view not in views:
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
    reminders_raw, summary_raw, slack_raw = raw.pop("reminders", {}), raw.pop("summary", {}), raw.pop("slack", {})
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
    for key, table in (("reminders", reminders_raw), ("summary", summary_raw), ("slack", slack_raw)):
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [alerts.{key}]: expected a table")
    result = {
        "alerts": _build(path, "alerts", AlertSettings, raw),
        "routes": routes,
        "reminders": _build(path, "alerts.reminders", ReminderSettings, reminders_raw),
        "summary": _build(path, "alerts.summary", SummarySettings, summary_raw),
        "slack": _build(path, "alerts.slack", SlackSettings, slack_raw),
    }
    result["slack_access"] = _slack(path, result["slack"])
    for number, route in enumerate(routes, 1):
        if SLACK_BUTTONS in route.urls and result["slack_access"] is None:
            raise ConfigError(f"{path}: [[alerts.routes]] #{number} ({route.name}) urls: {SLACK_BUTTONS} needs "
                              "[alerts.slack] app_token_file, bot_token_file, channel, users_file, relay_token_file")
    names = {r.name for r in routes}
    for key in ("reminders", "summary"):
        if result[key].route and result[key].route not in names:
            raise ConfigError(f"{path}: [alerts.{key}] route: no route named {result[key].route!r}")
    return result


def _slack(path: Path, slack: SlackSettings) -> SlackAccess | None:
    """[alerts.slack], read and checked: every token a secret file of its own."""
    if slack.app_token_file is None:
        return None
    where = f"{path}: [alerts.slack]"
    if not re.fullmatch(r"[CGD][A-Z0-9]{6,20}", slack.channel):
        raise ConfigError(f"{where} channel: expected a channel ID such as C0123ABCD (channel details, at the bottom)")
    secrets_: dict[str, Secret] = {}
    for key, prefix in (("app_token_file", "xapp-"), ("bot_token_file", "xoxb-"), ("relay_token_file", "")):
        file = getattr(slack, key)
        if file is None:
            raise ConfigError(f"{where} {key}: needed with app_token_file")
        value = (_read(file, f"{where} {key}: {file}", secret=True) or "").strip()
        if not value.startswith(prefix) or len(value) < 16:
            raise ConfigError(f"{where} {key}: {file}: expected a token{' starting ' + prefix if prefix else ''}")
        secrets_[key] = Secret(value)
    if slack.users_file is None:
        raise ConfigError(f"{where} users_file: needed with app_token_file (who clicked)")
    users = {}
    for number, line in enumerate((_read(slack.users_file, f"{where} users_file: {slack.users_file}") or "").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, _, name = line.partition(":")
        if not re.fullmatch(r"[UW][A-Z0-9]{6,20}", user.strip()) or not name.strip():
            raise ConfigError(f"{where} users_file: {slack.users_file}:{number}: expected U0123ABCD:Operator Name")
        users[user.strip()] = name.strip()
    if slack.dashboard_url:
        _web_address(f"{where} dashboard_url", slack.dashboard_url, "the relay token")
    return SlackAccess(secrets_["app_token_file"], secrets_["bot_token_file"], secrets_["relay_token_file"], users)


def _access_key(config: Path, path: Path) -> Secret | None:
    """The kiosk key: none when the file is absent; a file that is there but unusable is an error,
    never a silently open dashboard."""
    where = f"{config}: [gui] access_key_file: {path}"
    text = _read(path, where, "; the dashboard will not run open", missing_ok=True, secret=True)
    if text is None:
        return None
    value = text.strip()
    if len(value) < MIN_KEY:
        raise ConfigError(f"{where}: needs a key of at least {MIN_KEY} characters (python3 -c 'import secrets; "
                          f"print(secrets.token_urlsafe(24))'), or remove the file")
    return Secret(value)


def _read(file: Path, where: str, consequence: str = "", missing_ok: bool = False, secret: bool = False) -> str | None:
    """A file the configuration names, as text; None when it is absent and may be. Anything else that
    keeps it from being read (a FIFO, a directory, no permission, not UTF-8, over 1 MB) is a ConfigError
    naming *where*; so is a *secret* that others than the service and its group can read."""
    try:
        text = read_regular(file, MAX_STATUS_BYTES).decode("utf-8")
        problem = exposed(file) if secret else None
        if problem:
            raise ConfigError(f"{where}: {problem}")
        return text
    except FileNotFoundError:
        if missing_ok:
            return None
        reason = "not found"
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    raise ConfigError(f"{where}: cannot be read ({reason}){consequence}")


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
    if "parse" in meta:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        try:
            return meta["parse"](value)
        except ValueError as error:
            raise ConfigError(f"{where}: {error}") from None
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



