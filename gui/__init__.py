"""The wall dashboard: a read-only Flask app, served by waitress (``python -m gui``).

`create_app` builds it from a checked configuration; each part of the site is
a blueprint: `wall` (the pages), `api` (the board as JSON), `monitoring`
(``/healthz``, ``/metrics``), `summary` (the weekly figures) and
`acknowledge` (the one write path: operators sign in and say "on it").
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, redirect, request

from ticketdash import rules, timefmt
from ticketdash.config import Config
from ticketdash.board import LiveBoard
from gui import acknowledge, api, monitoring, wall
from gui import summary as summary_pages
from gui.access import COOKIE, Access
from gui.board import Board
from gui.database import Database
from gui.site import Site, Weekly, site
from gui.throttle import Throttle

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # nothing to the helpdesk's links; our own Origin on our forms
    "X-Frame-Options": "DENY",
}


def create_app(config: Config) -> Flask:
    """The app for *config* (from `ticketdash.config.load`, or `build` over a mapping in tests), following
    every helpdesk's folder from here on (`Site.folder`: stop it when done)."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    live = LiveBoard(config, config.gui.rescan_seconds,
                     {"light": config.blinky.status_file, "alerts": config.alerts.status_file})
    live.follow()
    access = Access(config.access_key, config.gui.allow_networks)
    database = Database(config.gui.database, config.gui.acks_file)
    database.publish(timefmt.now())  # the acks survive a restart, and their file exists for the readers
    app.extensions["ticketdash"] = Site(config=config, folder=live.folder, board=Board(config, live),
                                        weekly=Weekly(live.folder.stores,
                                                      rules.Policy.from_settings(config.rules, config.gui)),
                                        access=access, database=database, failures=Throttle(10),
                                        writes=Throttle(60))
    app.context_processor(lambda: {"demo": site().board.rendered().verdict.demo})  # every page says so
    app.before_request(_gatekeeper)
    app.after_request(_headers)
    for blueprint in (wall.bp, api.bp, monitoring.bp, summary_pages.bp, acknowledge.bp):
        app.register_blueprint(blueprint)
    return app


def _gatekeeper() -> Any:
    """Read-only but for the operators' few writes, and only for whom the access rules let in; the
    kiosk's key becomes a cookie."""
    access = site().access
    if request.method not in ("GET", "HEAD") and request.method not in acknowledge.WRITES.get(request.path, ()):
        abort(405)
    if not access.network_allowed(request.remote_addr):
        abort(403)
    if request.method not in ("GET", "HEAD") and not acknowledge.same_origin():
        abort(403)  # a form on another site, whatever cookies the browser sends along
    if request.path in acknowledge.OPERATOR_PATHS:
        return None  # they check the operator themselves: the kiosk key is neither needed nor enough
    if not access.admitted(request) and acknowledge.current_session() is None:
        return Response("This dashboard needs its access key: open it once as /?key=<access key>.\n",
                        401, {"Content-Type": "text/plain; charset=utf-8"})
    if request.path == "/" and request.args.get("key"):  # first visit of the kiosk: swap the key for a cookie
        rest = {k: v for k, v in request.args.items() if k != "key"}
        response = redirect("/" + ("?" + urlencode(rest) if rest else ""))
        response.set_cookie(COOKIE, access.token, max_age=10 * 365 * 86400, httponly=True,
                            samesite="Strict", secure=request.is_secure)
        return response
    return None


def _headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if request.path in acknowledge.OPERATOR_PATHS:
        response.headers["Cache-Control"] = "no-store"  # a CSRF token, a sign-in form, the audit
    elif request.path.startswith("/api/") or request.path == "/":
        response.headers["Cache-Control"] = "no-cache"
    return response
