"""The board as the page reads it: the shared verdict (``ticketdash.board``) as JSON, with caching.

A board depends on the folder's content and on the clock. It is built once
and kept until the folder changes or the next moment at which any ticket's
state (or the data's freshness) can change by time alone; until then every
request gets the same bytes and the same ETag, and a poller gets a 304.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from ticketdash import board, timefmt
from ticketdash.board import SECTIONS, LiveBoard, Row, Verdict
from ticketdash.config import Config
from ticketdash.states import BREACHED, vocabulary

# Escaped to ASCII: one symbol in the head must not make the whole board a wide string to encode.
VOCABULARY = json.dumps(vocabulary(), separators=(",", ":"))
logger = logging.getLogger(__name__)


class UnknownView(KeyError):
    pass


@dataclass
class Rendered:
    verdict: Verdict
    body: bytes
    etag: str
    version: int
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        """The body compressed, made once, when a client first asks for it."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=5, mtime=0)
        return self._gzipped


class Board:
    def __init__(self, config: Config, live: LiveBoard, clock: Callable[[], datetime] = timefmt.now) -> None:
        self.config = config
        self.folder = live.folder
        self.judge = live.judge
        self.clock = clock
        self.views = config.all_views
        self.cache: dict[tuple[str, int | None], Rendered] = {}
        self.encoded: dict[tuple[str, int], tuple[Row, str]] = {}  # each row's JSON, made once per row
        # The page's virtual light shows exactly what the desk light shows for each board state.
        self.palette = {state: effect.css() for state, effect in config.effects.items()}
        self.lock = threading.Lock()

    def view_list(self) -> list[dict[str, str]]:
        return [{"slug": slug, "title": view.title} for slug, view in self.views.items()]

    def rendered(self, view: str = "all", agent: int | None = None) -> Rendered:
        """The current board's verdict, bytes and ETag, rebuilt only when something can have changed.

        Never raises for the folder's content: a board that cannot be built is an ``error`` board.
        """
        if view not in self.views:
            raise UnknownView(view)
        key = (view, agent)
        cached = self._fresh(key, self.clock())
        if cached:
            return cached
        with self.lock:  # one rebuild at a time; the others then find it cached
            now = self.clock()
            cached = self._fresh(key, now)
            if cached:
                return cached
            version = self.folder.version
            views = self.folder.view()
            settings = self.views[view]
            try:
                verdict = self.judge.verdict(views, now, lambda t: settings.matches(t, agent), agent)
                agent_name = next((v.names.get("agents", {}).get(agent) for v in views
                                   if agent in v.names.get("agents", {})), None)
                content = self.encode(verdict, view, agent, agent_name)
            except Exception as error:  # fail closed: an error board, never a 500 nor the last good one
                logger.exception("the board cannot be built")
                verdict = board.failed(now, f"the board cannot be built: {type(error).__name__}")
                content = self.encode(verdict, view, agent)
            etag = 'W/"' + hashlib.sha1(content).hexdigest()[:20] + '"'
            body = content[:-1] + b',"generated_at":"' + timefmt.format(now).encode() + b'"}'
            rendered = Rendered(verdict, body, etag, version)
            if len(self.cache) > 64:  # agents' filters come and go
                self.cache.clear()
            self.cache[key] = rendered
            return rendered

    def _fresh(self, key: tuple[str, int | None], now: datetime) -> Rendered | None:
        cached = self.cache.get(key)
        until = cached.verdict.valid_until if cached else None
        if cached and cached.version == self.folder.version and (until is None or now < until):
            return cached
        return None

    def encode(self, verdict: Verdict, slug: str, agent: int | None, agent_name: str | None = None) -> bytes:
        """The board JSON (without generated_at): the verdict's head, then each section's rows."""
        heartbeat = verdict.heartbeat
        breach = verdict.next_breach
        oldest = verdict.oldest_breach
        head = {
            "data_as_of": verdict.data_as_of,
            "stale": verdict.status != "ok",
            "health": {"status": verdict.status, "reason": verdict.reason,
                       "last_attempt_at": _str(heartbeat.get("last_attempt_at")),
                       "last_error": _str(heartbeat.get("last_error")), "source": _str(heartbeat.get("source"))},
            "worst": verdict.worst,
            "demo": verdict.demo,
            "counts": verdict.counts,
            "total": sum(verdict.counts.values()),
            "breached": verdict.breached,
            "acknowledged": verdict.acknowledged,
            "handled": sum(n for state, n in verdict.acknowledged.items() if state in BREACHED),
            "worst_acknowledged": verdict.worst_acknowledged,
            "view": {"slug": slug, "title": self.views[slug].title},
            "agent": {"id": agent, "name": agent_name} if agent is not None else None,
            "next_breach": {"id": breach.id, "helpdesk": breach.fields.get("helpdesk"),
                            "due_at": breach.fields["due_at"]} if breach else None,
            "oldest_breach": {"id": oldest.id, "helpdesk": oldest.fields.get("helpdesk"),
                              "due_at": oldest.fields["due_at"]} if oldest else None,
            "helpdesks": verdict.helpdesks,
            "unreadable": [u.as_dict() for u in verdict.unreadable],
            "light": _light(verdict.light),
            "alerts": _alerts(verdict.alerts),
            "palette": self.palette,
        }
        parts = []
        for key, title in SECTIONS:
            meta = _dumps({"key": key, "title": title, "counts": verdict.section_counts(key)})
            parts.append(meta[:-1] + ',"tickets":[' + ",".join(self._json(r) for r in verdict.sections[key]) + "]}")
        content = _dumps(head)[:-1] + ',"states":' + VOCABULARY + ',"sections":[' + ",".join(parts) + "]}"
        if len(self.encoded) > 2 * len(self.judge.rows) + 100:  # forget tickets that left
            self.encoded = {i: e for i, e in self.encoded.items() if i in self.judge.rows}
        return content.encode()

    def _json(self, row: Row) -> str:
        known = self.encoded.get(row.ref)
        if known is not None and known[0] is row:
            return known[1]
        text = _dumps(row.fields)
        self.encoded[row.ref] = (row, text)
        return text


def _str(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) else None


def _light(status: dict[str, Any] | None) -> dict[str, Any] | None:
    """Blinky's status file, reduced to the plain fields the page shows."""
    if not status:
        return None
    return {k: status[k] for k in ("state", "effect", "device", "reason", "since") if isinstance(status.get(k), str)}


def _alerts(status: dict[str, Any] | None) -> dict[str, Any] | None:
    """The alerts daemon's status file, reduced to what the wall shows (no URLs, no errors' details)."""
    if not status:
        return None
    failing = status.get("failing") if isinstance(status.get("failing"), list) else []
    return {
        "last_sent_at": _str(status.get("last_sent_at")),
        "failing": [{"route": _str(f.get("route")), "since": _str(f.get("since")),
                     "waiting": f.get("waiting") if isinstance(f.get("waiting"), int) else None}
                    for f in failing[:10] if isinstance(f, dict)],
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
