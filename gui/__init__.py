"""The wall dashboard: a read-only Flask app, served by waitress (``python -m gui``)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, jsonify, redirect, render_template, request

from ticketdash import rules, summary, timefmt
from ticketdash.config import Config
from ticketdash.live import Folders
from ticketdash.store import TicketStore
from gui.access import COOKIE, Access
from gui.board import Board, UnknownView
from gui.metrics import exposition

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(config: Config, folder: Folders | None = None) -> Flask:
    """The app for *config*; *folder* (every helpdesk's folder) is started here unless the caller gives its own."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    if folder is None:
        folder = Folders(config, config.gui.rescan_seconds,
                         {"light": config.blinky.status_file, "alerts": config.alerts.status_file})
        folder.start()
    board = Board(config, folder)
    weekly = _Weekly(folder.stores, rules.Policy.from_settings(config.rules, config.gui))
    access = Access(config.access_key, config.gui.allow_networks)
    app.extensions["ticketdash"] = {"board": board, "folder": folder, "config": config}

    @app.before_request
    def gatekeeper() -> Any:
        if request.method not in ("GET", "HEAD"):
            abort(405)
        if not access.network_allowed(request.remote_addr):
            abort(403)
        if not access.admitted(request):
            return Response("This dashboard needs its access key: open it once as /?key=<access key>.\n",
                            401, {"Content-Type": "text/plain; charset=utf-8"})
        if request.path == "/" and request.args.get("key"):  # first visit of the kiosk: swap the key for a cookie
            rest = {k: v for k, v in request.args.items() if k != "key"}
            response = redirect("/" + ("?" + urlencode(rest) if rest else ""))
            response.set_cookie(COOKIE, access.token, max_age=10 * 365 * 86400, httponly=True,
                                samesite="Strict", secure=request.is_secure)
            return response
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if request.path.startswith("/api/") or request.path == "/":
            response.headers["Cache-Control"] = "no-cache"
        return response

    def wall(view: str, rotation: list[str], rotate_seconds: float, title: str) -> str:
        gui = config.gui
        return render_template("board.html", title=title, views=board.view_list(), view=view, rotation=rotation,
                               rotate_seconds=rotate_seconds, agent=request.args.get("agent", ""),
                               refresh=gui.refresh_seconds, page_seconds=gui.page_seconds, chime=gui.chime,
                               chime_quiet_hours=timefmt.format_quiet_hours(gui.chime_quiet_hours))

    @app.get("/")
    def page() -> str:
        view = request.args.get("view", config.gui.default_view)
        if view not in board.views:
            abort(404)
        return wall(view, [view], 0, config.gui.title)

    @app.get("/wall/<name>")
    def wall_page(name: str) -> str:
        """One TV's profile: the views it rotates through (``[walls.<name>]``)."""
        profile = config.walls.get(name)
        if profile is None:
            abort(404)
        return wall(profile.views[0], profile.views, profile.rotate_seconds, f"{config.gui.title} · {profile.title}")

    @app.get("/api/board")
    def api_board() -> Response:
        view = request.args.get("view", config.gui.default_view)
        agent_arg = request.args.get("agent")
        try:
            agent = int(agent_arg) if agent_arg else None
            rendered = board.rendered(view, agent)
        except ValueError:
            return jsonify(error="agent must be an agent's numeric ID"), 400
        except UnknownView:
            return jsonify(error=f"no view {view!r}", views=[v["slug"] for v in board.view_list()]), 404
        if request.if_none_match.contains_weak(rendered.etag[3:-1]):  # W/"<tag>": compare the tag
            return Response(status=304, headers={"ETag": rendered.etag})
        headers = {"ETag": rendered.etag, "Content-Type": "application/json", "Vary": "Accept-Encoding"}
        if "gzip" in request.accept_encodings:
            headers["Content-Encoding"] = "gzip"
            return Response(rendered.gzipped(), headers=headers)
        return Response(rendered.body, headers=headers)

    @app.get("/healthz")
    def healthz() -> Response:
        """200 only when the data is fit to be shown; 503 (same body) when stale or broken."""
        verdict = board.rendered().verdict
        body = jsonify(status=verdict.status, reason=verdict.reason, worst=verdict.worst,
                       data_as_of=verdict.data_as_of, tickets=sum(verdict.counts.values()),
                       unreadable=len(verdict.unreadable))  # open to monitors: counts, no ticket text
        body.status_code = 200 if verdict.status == "ok" else 503
        return body

    @app.get("/ticket/<int:ticket_id>")
    def ticket_page(ticket_id: int) -> str:
        """One mirrored ticket, read-only (where the demo's ticket numbers link to)."""
        helpdesk = request.args.get("helpdesk", "")
        found = next((r for r in board.rendered().verdict.rows() if r.ref == (helpdesk, ticket_id)), None)
        if found is None:
            abort(404)
        return render_template("ticket.html", title=config.gui.title, t=found.fields)

    @app.get("/summary")
    def summary_page() -> str:
        figures = weekly.current()
        return render_template("summary.html", title=config.gui.title, s=figures, data=summary.as_json(figures),
                               bars=summary.bars(figures.daily_breaches), duration=summary.duration)

    @app.get("/api/summary")
    def api_summary() -> Response:
        return jsonify(summary.as_json(weekly.current()))

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(exposition(board.rendered().verdict),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    return app


class _Weekly:
    """The weekly summary, read from tickets/ and the archive at most once a minute."""

    def __init__(self, stores: list[TicketStore], policy: rules.Policy) -> None:
        self.stores = stores
        self.policy = policy
        self.lock = threading.Lock()
        self.made: tuple[float, summary.Summary] | None = None

    def current(self) -> summary.Summary:
        with self.lock:
            if self.made is None or time.monotonic() - self.made[0] > 60:
                self.made = (time.monotonic(), summary.weekly(self.stores, timefmt.now(), self.policy))
            return self.made[1]
