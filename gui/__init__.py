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

from datetime import datetime

from flask import Flask, Response, abort, g, redirect, request

from ticketdash import links, rules, timefmt
from ticketdash.config import Config
from ticketdash.board import LiveBoard
from gui import acknowledge, api, monitoring, wall
from gui import summary as summary_pages
from gui.access import COOKIE, COOKIE_DAYS, GRACE, OPEN_PATHS, ROTATE_AFTER, Access
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
    database = Database(config.gui.database, config.gui.acks_file)
    access = Access(config.access_key, config.gui.allow_networks, database, config.gui.trusted_proxy,
                    config.gui.server_names)
    database.publish(timefmt.now())  # the acks survive a restart, and their file exists for the readers
    secret = links.secret_file(config.gui.database)
    links.make_secret(secret)
    app.extensions["ticketdash"] = Site(config=config, folder=live.folder, board=Board(config, live),
                                        weekly=Weekly(live.folder.stores,
                                                      rules.Policy.from_settings(config.rules, config.gui)),
                                        access=access, database=database, failures=Throttle(10),
                                        writes=Throttle(60), link_secret=links.read_secret(secret))
    app.context_processor(lambda: {"demo": site().board.rendered().verdict.demo})  # every page says so
    app.before_request(_gatekeeper)
    app.after_request(_headers)
    for blueprint in (wall.bp, api.bp, monitoring.bp, summary_pages.bp, acknowledge.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(404, wall.not_found)
    return app


def _gatekeeper() -> Any:
    """Read-only but for the operators' few writes, and only for whom the access rules let in; a TV's
    key becomes a cookie, and leaves the URL."""
    access = site().access
    if request.method not in ("GET", "HEAD") and request.method not in acknowledge.methods(request.path):
        abort(405)
    if not access.network_allowed(request):
        abort(403)
    if not access.host_allowed(request.host):
        return Response("This dashboard does not answer to that name. If it is yours, add it to [gui] "
                        "server_names.\n", 421, {"Content-Type": "text/plain; charset=utf-8"})
    if request.path == "/access":
        return _exchange(request.form.get("key"), request.form.get("next", "/"))  # from kiosk.sh's own page
    if request.method not in ("GET", "HEAD") and not acknowledge.same_origin():
        abort(403)  # a form on another site, whatever cookies the browser sends along
    if acknowledge.checks_operators(request.path):
        return None  # they check the operator themselves: the kiosk key is neither needed nor enough
    if request.path.startswith(OPEN_PATHS):
        return None
    if "key" in request.args:  # the TV's first visit: swap the key for a cookie, on any page
        rest = {k: v for k, v in request.args.items() if k != "key"}
        return _exchange(request.args.get("key"), request.path + ("?" + urlencode(rest) if rest else ""))
    now = timefmt.now()
    held = access.cookie_device(request, now)
    if held is not None:
        if now - held[1] > ROTATE_AFTER:
            g.rotated = _replace_cookie(held[0], now)
        return None
    if not access.required():
        return None  # an open wall (the log said so at start)
    bearer = access.bearer(request)
    if bearer is not None:  # a program: a read key, or an operator's token (who may write may read)
        return _key_blocked() or (None if access.device_for(bearer) or site().database.by_token(bearer)
                                  else _wrong_key())
    return None if acknowledge.current_session() is not None else _needs_key()


def _exchange(offered: str | None, next_path: str) -> Response:
    """A key shown once: a cookie in its place, and the page again without it."""
    access = site().access
    blocked = _key_blocked() if offered else None
    if blocked is not None:
        return blocked
    device = access.device_for(offered) if offered else None
    if device is None:
        return _wrong_key() if offered else _needs_key()
    response = redirect(acknowledge.local_path(next_path), code=303)
    _set_cookie(response, access.database.open_device_session(device, COOKIE_DAYS, timefmt.now()))
    logger.info("access key of %s exchanged for a cookie by %s", device, request.remote_addr)
    return response


def _replace_cookie(device: str, now: datetime) -> str:
    database = site().access.database
    database.end_device_session(request.cookies.get(COOKIE, ""), GRACE, now)
    return database.open_device_session(device, COOKIE_DAYS, now)


def _set_cookie(response: Response, session_id: str) -> None:
    # Lax, not Strict: the kiosk's first page comes from a local file, and the cookie only ever reads.
    response.set_cookie(COOKIE, session_id, max_age=COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure)


def _key_blocked() -> Response | None:
    """Too many wrong keys from this address lately: no key is even looked at until the minute passes,
    or guessing would go on at full speed behind the 429s."""
    wait = site().failures.blocked("key:" + (request.remote_addr or "?"))
    if not wait:
        return None
    return Response("Too many wrong keys from this address: wait a minute.\n", 429,
                    {"Content-Type": "text/plain; charset=utf-8", "Retry-After": str(int(wait) + 1)})


def _wrong_key() -> Response:
    """A wrong key: counted per address, logged without what was offered, answered like a missing one."""
    address = request.remote_addr or "?"
    site().failures.note("key:" + address)
    logger.warning("a wrong access key from %s for %s", address, request.path)
    return _needs_key()


def _needs_key() -> Response:
    return Response("This dashboard needs its access key: open it once as /?key=<access key>.\n",
                    401, {"Content-Type": "text/plain; charset=utf-8"})


def _headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    rotated = g.pop("rotated", None)
    if rotated:
        _set_cookie(response, rotated)
    if acknowledge.checks_operators(request.path):
        response.headers["Cache-Control"] = "no-store"  # a CSRF token, a sign-in form, the audit
    elif request.path.startswith("/api/") or request.path == "/":
        response.headers["Cache-Control"] = "no-cache"
    return response
