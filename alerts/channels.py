"""Delivery through Apprise: one URL per channel, plain text, paced per channel.

Webhook URLs are secrets: logs and the wall name a channel by its service and
host only (``slack://…``), never by its tokens.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit

import apprise
from apprise.conversion.format import text_to_markdown
from apprise.decorators import notify

from ticketdash.config import SLACK_BUTTONS

logger = logging.getLogger(__name__)
sent_to_log = logging.getLogger("alerts.log")


@notify(on="log", name="Ticket Dash log")
def _to_log(body: str, title: str, notify_type: str, *args: object, **kwargs: object) -> bool:
    """``log://``: a channel that writes each message to this daemon's log (the demo's channel)."""
    sent_to_log.info("ALERT %s | %s", title, body.replace("\n", " | "))
    return True


# Services whose card renders the title as Markdown (Teams' Workflows and its old connectors).
MARKDOWN_TITLES = frozenset({"workflows", "workflow", "msteams", "teams"})


class Bot(Protocol):
    def post(self, title: str, body: str, button: dict[str, Any] | None) -> str | None: ...


def problem(url: str) -> str | None:
    """Why Apprise cannot deliver to *url*; None when it can (the Slack bot's channel is the configuration's
    to check)."""
    if url == SLACK_BUTTONS:
        return None
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        return f"Apprise does not understand the URL {shown(url)!r}"
    return None


def shown(url: str) -> str:
    """A channel as logs and the wall may name it: its scheme and host, no tokens."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "(unparsable URL)"
    return f"{parts.scheme}://{host}/…" if host else f"{parts.scheme}://…"


def secret_parts(url: str) -> list[str]:
    """The pieces of *url* that may be secret (for masking in logs): the URL and its longer tokens."""
    pieces = [url] if len(url) >= 8 else []
    try:
        parts = urlsplit(url)
    except ValueError:
        return pieces
    for token in [*parts.path.split("/"), *parts.query.split("&"), parts.username or "", parts.password or ""]:
        token = token.split("=", 1)[-1]
        if len(token) >= 8:
            pieces.append(token)
    return pieces


class Channels:
    """Sends one message to one URL; no faster than *interval* seconds per channel."""

    def __init__(self, interval: float, wait: Callable[[float], object] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, bot: Bot | None = None) -> None:
        self.interval = interval
        self.bot = bot  # the Slack bot behind slack-buttons://
        self.wait = wait
        self.clock = clock
        self.last: dict[str, float] = {}

    def send(self, url: str, title: str, body: str, button: dict[str, Any] | None = None) -> str | None:
        """Deliver (*button*: an "On it" button, where the channel has them); None on success, else why it
        failed (without the URL's secret parts)."""
        pause = self.last.get(url, float("-inf")) + self.interval - self.clock()
        if pause > 0:
            self.wait(pause)
        self.last[url] = self.clock()
        if url == SLACK_BUTTONS:
            return self.bot.post(title, body, button) if self.bot else "the Slack bot is not set up ([alerts.slack])"
        sender = apprise.Apprise()
        if not sender.add(url):
            return f"Apprise does not understand {shown(url)}"
        if urlsplit(url).scheme.lower() in MARKDOWN_TITLES:
            title = text_to_markdown(title)  # Apprise escapes the body for Markdown, not the title
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
        if ok:
            return None
        why = " ".join(line.strip() for line in captured.getvalue().splitlines() if line.strip())[-300:]
        for piece in secret_parts(url):
            why = why.replace(piece, "***")
        return why or "delivery failed"
