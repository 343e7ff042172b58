"""Slack buttons through Socket Mode: the alerts daemon posts a breach with an "On it" button to a fake
Slack, a click comes back over the WebSocket, and the dashboard records the ack for the operator that Slack
user is; the rest of the product answers as for any ack."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import requests

from tests.fakeslack import FakeSlack
from tests.helpers import iso_in, private, put_ticket, run_module, start_module, ticket, wait_for, write_heartbeat

APP_TOKEN = "xapp-1-A0FAKE-0123456789-abcdef"
BOT_TOKEN = "xoxb-0123456789-abcdefghijkl"
ADA, NOBODY = "U0ADA0001", "U0NOBODY1"



@pytest.fixture
def slack():
    fake = FakeSlack(APP_TOKEN, BOT_TOKEN)
    yield fake
    fake.stop()


def operator(config: Path, name: str, *options: str) -> str:
    added = run_module("gui", "operators", "add", name, *options, "--config", str(config))
    assert added.returncode == 0, added.stderr
    return added.stdout.strip().splitlines()[-1]


def buttons(message: dict) -> list[dict]:
    return [e for block in message.get("blocks") or [] if block["type"] == "actions" for e in block["elements"]]


@pytest.mark.slow
def test_a_click_in_slack_is_on_it_for_that_operator(gui_server, slack: FakeSlack) -> None:
    server = gui_server(alerts={"channel_interval_seconds": 0, "retry_max_seconds": 1})
    folder = server.config.parent
    private(folder / "app.token", APP_TOKEN + "\n")
    private(folder / "bot.token", BOT_TOKEN + "\n")
    private(folder / "relay.token", "td_not-yet-made-0000000000\n")  # one config for every daemon: it must read
    (folder / "users.txt").write_text(f"# Slack user : operator\n{ADA}:Ada Lovelace\n")
    with server.config.open("a") as f:
        f.write('\n[alerts.slack]\napp_token_file = "app.token"\nbot_token_file = "bot.token"\nchannel = "C0ALERTS1"\n'
                f'users_file = "users.txt"\nrelay_token_file = "relay.token"\napi_url = "{slack.api_url}"\n'
                '\n[[alerts.routes]]\nname = "slack"\nurls = ["slack-buttons://"]\nstates = ["fr_overdue", "overdue"]\n')
    write_heartbeat(server.tickets)
    put_ticket(server.tickets, ticket(42, subject="<!channel> printer @here on fire", due_by=iso_in(minutes=-30)))
    server.start()
    operator(server.config, "Ada Lovelace")
    private(folder / "relay.token", operator(server.config, "Slack bot", "--role", "relay") + "\n")
    alerts = start_module("alerts", "--config", str(server.config))
    try:
        breach = wait_for(lambda: next((m for m in slack.posted if buttons(m)), None), what="the breach with a button")
        text = breach["blocks"][0]["text"]
        assert text["type"] == "plain_text" and "@here" not in text["text"] and "<!channel>" not in text["text"]
        (button,) = buttons(breach)
        assert button["text"]["text"] == "On it" and json.loads(button["value"])["ticket"] == 42

        envelope = slack.click(ADA, button["value"])
        wait_for(lambda: envelope in slack.acknowledged, what="the click acknowledged to Slack")
        board = lambda: requests.get(server.url + "/api/board", timeout=5).json()  # noqa: E731
        acks = lambda: {t["id"]: t["ack"] for s in board()["sections"] for t in s["tickets"]}  # noqa: E731
        wait_for(lambda: (acks()[42] or {}).get("by") == "Ada Lovelace", what="the ack, as Ada")
        on_it = wait_for(lambda: next((m for m in slack.posted if m.get("text", "").startswith("Ada Lovelace is on #42")),
                                      None), what="who is on it, in Slack")
        assert buttons(on_it) == []

        slack.click(NOBODY, button["value"])  # someone the wall does not know: told, alone
        told = wait_for(lambda: next((m for m in slack.ephemeral if m.get("user") == NOBODY), None),
                        what="the stranger told")
        assert "not in the wall's users_file" in told["text"]
        forged = slack.click(ADA, '{"ticket": "42; DROP"}')  # a value this bot never sent
        wait_for(lambda: forged in slack.acknowledged, what="the forged click acknowledged and ignored")
        deep = slack.click(ADA, "[" * 100_000 + "]" * 100_000)
        wait_for(lambda: deep in slack.acknowledged, what="a click nested 100,000 deep acknowledged and ignored")
        assert sum(1 for m in slack.posted if m.get("text", "").startswith("Ada Lovelace is on")) == 1
    finally:
        alerts.send_signal(signal.SIGTERM)
        assert alerts.wait(timeout=10) == 0
    log = alerts.log.read_text()
    for secret in (APP_TOKEN, BOT_TOKEN, (folder / "relay.token").read_text().strip()):
        assert secret not in log


def test_only_a_relay_may_act_for_another_operator(desk) -> None:
    from tests.helpers import add_operator
    from tests.test_acknowledge import bearer

    client, ada = desk.client(), desk.token
    put_ticket(desk.tickets, ticket(7, due_by=iso_in(minutes=-5)))
    relay = add_operator(desk.config_file, "Slack bot", "--role", "relay")
    as_bob = client.post("/api/ack", json={"ticket": 7, "as": "Ada Lovelace"}, headers=bearer(ada))
    assert as_bob.status_code == 403  # an agent never speaks for another
    assert client.post("/api/ack", json={"ticket": 7}, headers=bearer(relay)).status_code == 400  # a relay names one
    assert client.post("/api/ack", json={"ticket": 7, "as": "Slack bot"}, headers=bearer(relay)).status_code == 403
    assert client.post("/api/ack", json={"ticket": 7, "as": "Nobody"}, headers=bearer(relay)).status_code == 403
    done = client.post("/api/ack", json={"ticket": 7, "as": "Ada Lovelace"}, headers=bearer(relay))
    assert done.status_code == 200 and done.get_json()["by"] == "Ada Lovelace"


def test_slack_settings_are_checked_once(tmp_path: Path) -> None:
    from ticketdash import config as configuration
    from tests.helpers import write_config

    private(tmp_path / "app.token", APP_TOKEN)
    private(tmp_path / "bot.token", BOT_TOKEN)
    private(tmp_path / "relay.token", "td_0123456789abcdef")
    (tmp_path / "users.txt").write_text(f"{ADA}:Ada Lovelace\n")
    good = {"app_token_file": "app.token", "bot_token_file": "bot.token", "channel": "C0ALERTS1",
            "users_file": "users.txt", "relay_token_file": "relay.token"}
    route = {"urls": ["slack-buttons://"], "states": ["overdue"]}
    loaded = configuration.load(write_config(tmp_path, {"alerts": {"slack": good, "routes": [route]}}, token=None),
                                environ={})
    assert loaded.slack_access is not None and loaded.slack_access.users == {ADA: "Ada Lovelace"}
    for change, where in [({"channel": "#alerts"}, "[alerts.slack] channel"),
                          ({"bot_token_file": "app.token"}, "[alerts.slack] bot_token_file"),
                          ({"relay_token_file": None}, "[alerts.slack] relay_token_file"),
                          ({"dashboard_url": "http://wall.example.lan/"}, "[alerts.slack] dashboard_url")]:
        slack = {k: v for k, v in {**good, **change}.items() if v is not None}
        with pytest.raises(configuration.ConfigError, match=r"\[alerts.slack\]") as raised:
            configuration.load(write_config(tmp_path, {"alerts": {"slack": slack}}, token=None), environ={})
        assert where in str(raised.value)
    (tmp_path / "users.txt").write_text("ada:Ada\n")
    with pytest.raises(configuration.ConfigError, match=r"users.txt:1: expected U0123ABCD"):
        configuration.load(write_config(tmp_path, {"alerts": {"slack": good}}, token=None), environ={})
    with pytest.raises(configuration.ConfigError, match=r"slack-buttons:// needs \[alerts.slack\]"):
        configuration.load(write_config(tmp_path, {"alerts": {"routes": [route]}}, token=None), environ={})
    (tmp_path / "bot.token").chmod(0o644)
    (tmp_path / "users.txt").write_text(f"{ADA}:Ada Lovelace\n")
    with pytest.raises(configuration.ConfigError, match="bot_token_file"):
        configuration.load(write_config(tmp_path, {"alerts": {"slack": good}}, token=None), environ={})


def test_slack_down_at_start_holds_nothing_up(tmp_path: Path) -> None:
    import time

    from ticketdash import config as configuration
    from alerts.slack import SlackBot
    from tests.helpers import free_port, write_config

    private(tmp_path / "app.token", APP_TOKEN)
    private(tmp_path / "bot.token", BOT_TOKEN)
    private(tmp_path / "relay.token", "td_0123456789abcdef")
    (tmp_path / "users.txt").write_text(f"{ADA}:Ada Lovelace\n")
    nowhere = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    loaded = configuration.load(write_config(tmp_path, {"alerts": {"slack": {
        "app_token_file": "app.token", "bot_token_file": "bot.token", "channel": "C0ALERTS1", "users_file": "users.txt",
        "relay_token_file": "relay.token", "api_url": nowhere}}}, token=None), environ={})
    bot = SlackBot(loaded)
    began = time.monotonic()
    bot.listen()
    assert time.monotonic() - began < 1  # the connection is tried in the background
    why = bot.post("#1 Overdue", "body", {"ticket": 1, "helpdesk": "", "state": "overdue"})
    assert why and why.startswith("cannot reach Slack") and BOT_TOKEN not in why  # the outbox retries it
    bot.close()
