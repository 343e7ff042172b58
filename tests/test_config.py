"""Configuration: validated once; a bad file names the file and the key (exit 2)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from ticketdash import config, settings
from tests.helpers import KEY, python_env, run_module, write_config

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_documents_every_key_and_loads() -> None:
    example = ROOT / "config" / "ticketdash.example.toml"
    loaded = config.load(example, environ={"FRESHSERVICE_API_KEY": "x"})
    text = example.read_text()
    for section, cls in [*config.SECTIONS.items(), ("views.network", config.ViewSettings)]:
        assert f"[{section}]" in text
        for name in cls.__dataclass_fields__:
            assert f"{name} =" in text, f"[{section}] {name} is not documented in the example"
    assert loaded.watcher.interval == 60
    assert loaded.paths.tickets == (ROOT / "tickets").resolve()


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = write_config(tmp_path / "conf", {"freshservice": {"domain": "acme.freshservice.com"}})
    loaded = config.load(path, environ={})
    assert loaded.api_key is not None and loaded.api_key.reveal() == KEY
    assert loaded.freshservice.api_url == "https://acme.freshservice.com/api/v2"
    assert loaded.paths.tickets == (tmp_path / "tickets").resolve()
    assert loaded.stale_after == 180
    assert loaded.watcher.max_calls_per_minute == 40
    assert KEY not in repr(loaded)


def test_environment_key_wins_over_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"freshservice": {"domain": "a.freshservice.com"}})
    loaded = config.load(path, environ={"FRESHSERVICE_API_KEY": "from-env"})
    assert loaded.api_key.reveal() == "from-env"


@pytest.mark.parametrize(
    "sections, expected",
    [
        ({"watcher": {"sorce": "demo"}}, "[watcher] sorce: unknown key"),
        ({"watchr": {"source": "demo"}}, "[watchr]: unknown section"),
        ({"watcher": {"poll_seconds": "often"}}, "[watcher] poll_seconds: expected a number"),
        ({"watcher": {"source": "jira"}}, "[watcher] source: must be one of"),
        ({"watcher": {"source": "zendesk"}}, "[zendesk] subdomain: required when source is \"zendesk\""),
        ({"watcher": {"source": "zendesk"}, "zendesk": {"subdomain": "acme"}}, "[zendesk] email: required"),
        ({"watcher": {"source": "freshdesk"}}, "[freshdesk] domain: required when source is \"freshdesk\""),
        ({"watcher": {"ticket_types": "Incident"}}, "[watcher] ticket_types: expected a list"),
        ({"gui": {"port": 70000}}, "[gui] port: must be at most 65535"),
        ({"watcher": {"max_calls_per_minute": 0}}, "[watcher] max_calls_per_minute: must be at least 1"),
        ({"rules": {"update_minutes": {"urgent": "soon"}}}, "[rules] update_minutes.urgent: expected a number"),
    ],
)
def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path, sections: dict, expected: str) -> None:
    sections.setdefault("freshservice", {}).setdefault("domain", "acme.freshservice.com")
    path = write_config(tmp_path, sections)
    result = run_module("watcher", "--config", str(path), "--once")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and expected in lines[0]


def test_missing_token_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"freshservice": {"domain": "acme.freshservice.com"}}, token=None)
    result = run_module("watcher", "--config", str(path), "--once")
    assert result.returncode == 2
    assert "[freshservice] api_key_file" in result.stderr and str(path) in result.stderr


def test_missing_domain_exits_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"watcher": {"source": "freshservice"}})
    result = run_module("watcher", "--config", str(path), "--once")
    assert result.returncode == 2 and "[freshservice] domain" in result.stderr


def test_missing_or_broken_file_exits_2(tmp_path: Path) -> None:
    result = run_module("watcher", "--config", str(tmp_path / "nope.toml"), "--once")
    assert result.returncode == 2 and "nope.toml: not found" in result.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[watcher\nsource=")
    result = run_module("watcher", "--config", str(broken), "--once")
    assert result.returncode == 2 and "broken.toml: cannot be read" in result.stderr


def test_bad_arguments_exit_2() -> None:
    assert run_module("watcher", "--no-such-flag").returncode == 2


def test_ticketdash_config_environment_variable(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"watcher": {"source": "demo"}, "paths": {"tickets": "t"}})
    result = run_module("watcher", "--once", env=python_env(TICKETDASH_CONFIG=str(path)))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "t" / "_watcher.json").exists()


def test_key_from_a_systemd_credential(tmp_path: Path) -> None:
    path = write_config(tmp_path / "conf", {"freshservice": {"domain": "a.freshservice.com"}}, token=None)
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "freshservice-api-key").write_text("from-credential\n")
    loaded = config.load(path, environ={"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")})
    assert loaded.api_key.reveal() == "from-credential"


def test_readme_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings.reference() in readme, "regenerate the README's reference: python -m ticketdash.settings"


def test_secret_files_that_others_can_read_are_refused_with_the_fix(tmp_path: Path) -> None:
    from tests.helpers import private

    folder = tmp_path / "config"
    folder.mkdir()
    urls = private(folder / "alert_urls.txt", "json://127.0.0.1:9/hook\n")
    path = write_config(folder, {"watcher": {"source": "demo"}})
    with path.open("a") as f:
        f.write('\n[[alerts.routes]]\nurls_file = "alert_urls.txt"\nstates = ["overdue"]\n')
    config.load(path, environ={})
    urls.chmod(0o644)
    with pytest.raises(config.ConfigError, match=r"urls_file: .*alert_urls.txt: others can read it \(mode 0644\): "
                                                 r"chmod o-rwx .*alert_urls.txt"):
        config.load(path, environ={})
    urls.chmod(0o640)  # the service's group may: root:ticketdash 0640 on an installed box
    config.load(path, environ={})


@pytest.mark.parametrize("url, allow, ok", [
    ("http://wall.example.lan", False, False), ("http://wall.example.lan", True, True),
    ("https://wall.example.lan", False, True), ("http://127.0.0.1:5001", False, True),
])
def test_blinky_never_sends_its_key_over_plain_http_unless_told(tmp_path: Path, url: str, allow: bool, ok: bool) -> None:
    from tests.helpers import private

    folder = tmp_path / "config"
    folder.mkdir()
    private(folder / "desk.key", "desk-key-0123456789\n")
    path = write_config(folder, {"blinky": {"remote_url": url, "remote_access_key_file": "desk.key",
                                            "remote_allow_http": allow}})
    if ok:
        config.load(path, environ={})
    else:
        with pytest.raises(config.ConfigError, match=r"\[blinky\] remote_url: the key would cross the network"):
            config.load(path, environ={})


def test_the_watcher_warns_when_others_can_read_its_key(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config", {"watcher": {"source": "freshservice", "max_retries": 0},
                                              "freshservice": {"base_url": "http://127.0.0.1:9"}})
    (tmp_path / "config" / "token.txt").chmod(0o644)
    result = run_module("watcher", "--config", str(path), "--check")
    assert "api_key_file: others can read it (mode 0644): chmod o-rwx" in result.stderr
    assert KEY not in result.stderr + result.stdout


def readme_toml() -> list[tuple[int, str]]:
    """Every TOML example in the README: indented or fenced blocks with a [section] line."""
    lines = (ROOT / "README.md").read_text().splitlines()
    blocks, current, start, fenced = [], [], 0, False
    for number, line in enumerate(lines + [""], 1):
        if line.startswith("```"):
            if fenced:
                blocks.append((start, "\n".join(current)))
                current, fenced = [], False
            elif line.strip() in ("```toml", "```"):
                current, start, fenced = [], number, True
            continue
        if fenced:
            current.append(line)
        elif line.startswith("    ") or (current and not line.strip()):
            if not current:
                start = number
            current.append(line[4:])
        elif current:
            blocks.append((start, "\n".join(current)))
            current = []
    return [(n, b) for n, b in blocks if re.search(r"^\[\[?[a-z][\w.<>-]*\]\]?\s*(#.*)?$", b, re.M)]


def test_every_toml_example_in_the_readme_parses_and_names_real_keys() -> None:
    import tomllib

    from ticketdash import settings

    tables = {**settings.SECTIONS, "alerts": settings.AlertSettings, "alerts.routes": settings.RouteSettings,
              "alerts.reminders": settings.ReminderSettings, "alerts.summary": settings.SummarySettings,
              "alerts.slack": settings.SlackSettings, "blinky.lights": settings.LightSettings,
              "views.*": settings.ViewSettings, "walls.*": settings.WallSettings}
    examples = readme_toml()
    assert len(examples) >= 10
    for line, text in examples:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise AssertionError(f"README line {line}: {error}\n{text}") from None

        def check(path: str, table: dict) -> None:
            if path == "helpdesks":
                return
            cls = tables.get(path) or tables.get(path.split(".")[0] + ".*")
            assert cls is not None, f"README line {line}: no section [{path}]"
            known = {f.name for f in dataclasses.fields(cls)}
            for key, value in table.items():
                inner = f"{path}.{key}"
                if isinstance(value, dict) and (inner in tables or f"{path}.*" in tables and path in ("views", "walls")):
                    check(inner, value)
                elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and inner in tables:
                    for item in value:
                        check(inner, item)
                elif path in ("views", "walls") and isinstance(value, dict):
                    check(f"{path}.{key}", value)
                else:
                    assert key in known or (path == "blinky" and key == "effects"), \
                        f"README line {line}: [{path}] {key}: no such key"

        for section, table in parsed.items():
            check(section, table)
