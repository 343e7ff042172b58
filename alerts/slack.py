"""Slack with a real "On it" button, through Socket Mode: no public URL, no inbound port.

A route that sends to ``slack-buttons://`` has its messages posted by the bot
(``[alerts.slack] bot_token_file``) into one channel, as plain text (no
markup, no mentions can come from a ticket) with an "On it" button on a
ticket's message. A click arrives over the app's Socket Mode connection
(``app_token_file``); the Slack user is looked up in ``users_file``, and the
relay operator's token says "on it" for that operator through the dashboard.
Whoever is not in the file is told so, only them (an ephemeral message).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import requests
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient

from ticketdash.config import Config, SlackAccess

logger = logging.getLogger(__name__)

ACTION = "ticketdash_on_it"
MAX_TEXT = 2900  # a plain_text block holds 3,000 characters


class SlackBot:
    def __init__(self, config: Config) -> None:
        access = config.slack_access
        assert access is not None
        self.access: SlackAccess = access
        self.channel = config.slack.channel
        self.dashboard = (config.slack.dashboard_url or f"http://127.0.0.1:{config.gui.port}").rstrip("/")
        self.web = WebClient(token=access.bot_token.reveal(), base_url=config.slack.api_url, timeout=15)
        self.socket: SocketModeClient | None = None
        self.stopping = threading.Event()

    # -- sending ---------------------------------------------------------

    def post(self, title: str, body: str, button: dict[str, Any] | None) -> str | None:
        """Post one message; None when Slack took it, else why not (never a token)."""
        text = f"{title}\n{body}"[:MAX_TEXT]
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}}]
        if button is not None:
            blocks.append({"type": "actions", "elements": [{
                "type": "button", "action_id": ACTION, "style": "primary", "value": json.dumps(button),
                "text": {"type": "plain_text", "text": "On it"}}]})
        try:
            fallback = title[:MAX_TEXT].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # Slack's escaping
            self.web.chat_postMessage(channel=self.channel, text=fallback, blocks=blocks, unfurl_links=False,
                                      unfurl_media=False)
        except SlackApiError as error:
            return f"Slack refused the message: {error.response.get('error', 'unknown error')}"
        except Exception as error:  # the network: retried by the outbox
            return f"cannot reach Slack: {type(error).__name__}"
        return None

    # -- clicks ----------------------------------------------------------

    def listen(self) -> None:
        """Open the Socket Mode connection in the background: Slack being down at start never holds up
        the alerts; once connected, the client reconnects by itself."""
        web = WebClient(base_url=self.web.base_url, timeout=15)
        self.socket = SocketModeClient(app_token=self.access.app_token.reveal(), web_client=web,
                                       logger=logging.getLogger("alerts.slack.socket"))
        self.socket.socket_mode_request_listeners.append(self._request)
        threading.Thread(target=self._connect, name="slack socket", daemon=True).start()

    def _connect(self) -> None:
        wait = 5.0
        while self.socket is not None and not self.stopping.is_set():
            try:
                self.socket.connect()
            except Exception as error:
                logger.warning("Slack: cannot open the Socket Mode connection (%s); trying again in %.0f s",
                               type(error).__name__, wait)
                self.stopping.wait(wait)
                wait = min(300.0, wait * 2)
                continue
            logger.info("Slack: listening for clicks (Socket Mode)")
            return

    def close(self) -> None:
        self.stopping.set()
        if self.socket is not None:
            self.socket.close()

    def _request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))  # within 3 s, always
        payload = request.payload if isinstance(request.payload, dict) else {}
        if request.type != "interactive" or payload.get("type") != "block_actions":
            return
        user = (payload.get("user") or {}).get("id", "")
        for action in payload.get("actions") or []:
            if isinstance(action, dict) and action.get("action_id") == ACTION:
                self._clicked(str(user), str(action.get("value", "")))

    def _clicked(self, user: str, value: str) -> None:
        """A click: "on it" for the operator this Slack user is, or a word to that user alone."""
        try:
            target = json.loads(value)
            ticket, helpdesk = int(target["ticket"]), str(target.get("helpdesk", ""))
        except (ValueError, KeyError, TypeError, RecursionError):
            logger.warning("Slack: a click with a value this bot never sent, ignored")
            return
        operator = self.access.users.get(user)
        name = f"{helpdesk} #{ticket}" if helpdesk else f"#{ticket}"
        if operator is None:
            logger.warning("Slack: a click on %s from user %s, who is not in users_file", name, user)
            self._tell(user, f"Not done: your Slack user ({user}) is not in the wall's users_file; ask the admin.")
            return
        body: dict[str, Any] = {"ticket": ticket, "as": operator, **({"helpdesk": helpdesk} if helpdesk else {})}
        try:
            answer = requests.post(f"{self.dashboard}/api/ack", json=body, timeout=10, allow_redirects=False,
                                   headers={"Authorization": f"Bearer {self.access.relay_token.reveal()}"})
        except requests.RequestException as error:
            self._tell(user, f"Not done: the wall cannot be reached ({type(error).__name__}).")
            return
        if answer.status_code == 200:
            logger.info("Slack: %s is on %s", operator, name)
            return  # the alerts say "<operator> is on <ticket>" once, as for any ack
        try:
            why = str(answer.json().get("error", ""))[:200]
        except (ValueError, AttributeError):
            why = ""
        logger.warning("Slack: %s on %s refused: HTTP %d %s", operator, name, answer.status_code, why)
        self._tell(user, f"Not done: {why or 'HTTP ' + str(answer.status_code)}.")

    def _tell(self, user: str, text: str) -> None:
        try:
            self.web.chat_postEphemeral(channel=self.channel, user=user, text=text)
        except Exception as error:
            logger.warning("Slack: cannot tell %s: %s", user, type(error).__name__)
