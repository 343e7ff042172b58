"""The dashboard's only write path: operators sign in and say "on it" (``POST /api/ack``), or
"assign to me" (``POST /api/claim``, which the watcher sends on to the helpdesk).

Who may write: an operator (``python -m gui operators add``), by bearer token
(programs) or by a sign-in session (browsers, which must also send the
session's CSRF token). The kiosk access key only ever reads. Wrong tokens and
sign-ins are throttled per address and per name, logged without the offered
value, and audited; so is every ack, clear, sign-in and sign-out.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Callable, NamedTuple
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from ticketdash import claims, links, timefmt
from ticketdash.acks import Ack
from ticketdash.config import claims_on
from ticketdash.board import Row
from ticketdash.states import WORDS
from ticketdash.store import is_id
from ticketdash.text import one_line
from gui.database import Operator, Session
from gui.site import site

logger = logging.getLogger(__name__)
bp = Blueprint("acknowledge", __name__)

SESSION_COOKIE = "ticketdash_session"
SIGNIN_COOKIE = "ticketdash_signin"  # the sign-in form's own CSRF token (double submit)
MAX_MINUTES = 7 * 24 * 60
# Paths that check operators themselves (the kiosk key is neither needed nor enough).
OPERATOR_PATHS = ("/api/ack", "/api/claim", "/api/me", "/signin", "/signout", "/ack-log")
LINKS = "/ack/"  # a signed link from an alert: /ack/<ticket>?...
WRITES = {"/api/ack": ("POST", "DELETE"), "/api/claim": ("POST",), "/signin": ("POST",), "/signout": ("POST",),
          "/access": ("POST",)}  # not a write: a TV showing its key once, out of every URL


def checks_operators(path: str) -> bool:
    """Whether this path checks the operator itself."""
    return path in OPERATOR_PATHS or path.startswith(LINKS)


def methods(path: str) -> tuple[str, ...]:
    """The methods besides GET that *path* takes."""
    return ("POST",) if path.startswith(LINKS) else WRITES.get(path, ())


def now() -> datetime:
    return timefmt.now()


def current_session() -> Session | None:
    """The signed-in operator's session, from the cookie; None when there is none or it ended."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return site().database.session(cookie, now()) if cookie else None


def same_origin() -> bool:
    """A write from a page of this dashboard (or from a program, which sends no Origin)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


# -- who is writing ------------------------------------------------------------


def _error(status: int, message: str, **headers: str) -> Response:
    response = jsonify(ok=False, error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


class Refusal(NamedTuple):
    status: int
    why: str
    retry_after: float = 0.0  # seconds, when waiting helps


def _who() -> Operator | Refusal:
    """The operator behind this write, or (status, why) it is refused: a wrong token (throttled per
    address), the kiosk key, no sign-in, a wrong CSRF token, or too many writes."""
    current = site()
    address = request.remote_addr or "?"
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        wait = current.failures.blocked(address)
        if wait:
            return Refusal(429, "too many wrong attempts from this address: wait and try again", wait)
        token = auth[7:].strip()
        if current.access.key_matches(token):
            _audit("kiosk key", "write", "", "refused: the kiosk access key only reads")
            return Refusal(403, "the kiosk access key only reads; writes need an operator's token")
        operator = current.database.by_token(token)
        if operator is None:
            current.failures.note(address)
            _audit("?", "token", "", "refused: unknown token")
            logger.warning("a write with an unknown operator token from %s", address)
            return Refusal(401, "unknown operator token")
    else:
        session = current_session()
        if session is None:
            if current.access.required() and current.access.holds_key(request, now()):
                return Refusal(403, "the kiosk access key only reads; sign in as an operator to write")
            return Refusal(401, "sign in (/signin) or send Authorization: Bearer <operator token>")
        offered = request.headers.get("X-CSRF-Token") or request.form.get("csrf") or ""
        if not hmac.compare_digest(offered.encode("utf-8", "surrogateescape"), session.csrf.encode()):
            _audit(session.operator.name, "write", "", "refused: CSRF token missing or wrong")
            return Refusal(403, "CSRF token missing or wrong")
        operator = session.operator
    if current.writes.blocked(operator.name):
        return Refusal(429, "too many writes: wait a minute", current.writes.blocked(operator.name))
    current.writes.note(operator.name)
    return operator


def _writer() -> Operator | Response:
    """`_who` for the JSON API: the operator, or the JSON answer that refuses the write."""
    who = _who()
    if not isinstance(who, Refusal):
        return who
    return _error(who.status, who.why, **({"Retry-After": str(int(who.retry_after) + 1)} if who.retry_after else {}))


def _audit(who: str, action: str, target: str, result: str) -> None:
    address = request.remote_addr or "?"
    site().database.audit(now(), who, action, target, address, result)
    logger.info("audit: %s %s %s from %s: %s", who, action, target or "-", address, result)


# -- acknowledging -------------------------------------------------------------


Ref = tuple[str, int]


def _write(handler: Callable[[Operator, dict[str, Any], Ref | None, str | None], Response]) -> Callable[[], Response]:
    """A write about one ticket: the handler gets who, the JSON body, and its (helpdesk, ticket) or the
    problem with it; who may not write (`_who`) or no JSON are answered before it runs."""

    @functools.wraps(handler)
    def run() -> Response:
        operator = _writer()
        if isinstance(operator, Response):
            return operator
        body = _body()
        if isinstance(body, Response):
            return body
        operator = _relayed(operator, body)
        if isinstance(operator, Response):
            return operator
        return handler(operator, body, *_ref(body))

    return run


def _relayed(operator: Operator, body: dict[str, Any]) -> Operator | Response:
    """Who a write is for: the operator itself, or, for a relay (the Slack bot), the operator it names
    in ``as``; only a relay may name one, and never another relay."""
    wanted = body.get("as")
    if operator.role != "relay":
        if wanted is not None:
            _audit(operator.name, "write", "", f"refused: acting for {one_line(str(wanted))[:80]} (not a relay)")
            return _error(403, "only a relay operator may act for another operator")
        return operator
    if not isinstance(wanted, str) or not wanted.strip():
        return _error(400, "as: the operator this relay acts for")
    target = site().database.operator(wanted)
    if target is None or target.role == "relay":
        _audit(operator.name, "write", "", f"refused: no operator {one_line(wanted)[:80]} to act for")
        return _error(403, f"no operator {one_line(wanted)[:80]!r} to act for")
    logger.info("relay %s acts for %s", operator.name, target.name)
    return target


@bp.post("/api/ack")
@_write
def ack(operator: Operator, body: dict[str, Any], ref: Ref | None, problem: str | None) -> Response:
    current = site()
    minutes = body.get("minutes", current.config.gui.ack_minutes)
    note = body.get("note", "")
    if problem is None and (type(minutes) is not int or not 1 <= minutes <= MAX_MINUTES):
        problem = f"minutes: a whole number from 1 to {MAX_MINUTES}"
    if problem is None and not isinstance(note, str):
        problem = "note: text"
    if problem is not None:
        return _error(400, problem)
    assert ref is not None
    row = _row(ref)
    if row is None:
        _audit(operator.name, "ack", _target(ref), "refused: no such ticket on the wall")
        return _error(404, f"no ticket {_target(ref)} on the wall")
    made = _acknowledge(operator, row, minutes, note)
    return jsonify(ok=True, until=timefmt.format(made.until), state=row.state, by=operator.name)


def _row(ref: Ref) -> Row | None:
    return next((r for r in site().board.rendered().verdict.rows() if r.ref == ref), None)


def _acknowledge(operator: Operator, row: Row, minutes: int, note: str) -> Ack:
    """The ack itself, whichever way it came: stored, published to the readers, audited."""
    at = now()
    made = Ack(row.ref[0], row.ref[1], operator.name, at, at + timedelta(minutes=minutes), row.state,
               one_line(note)[:500])
    site().database.ack(made, at)
    site().board.folder.reload_status("acks")  # the page shows it on its next poll, whatever the file events do
    _audit(operator.name, "ack", _target(row.ref), f"ok: {row.state}, {minutes} min")
    return made


@bp.delete("/api/ack")
@_write
def clear(operator: Operator, body: dict[str, Any], ref: Ref | None, problem: str | None) -> Response:
    if problem is not None or ref is None:
        return _error(400, problem or "ticket")
    current, target = site(), _target(ref)
    held = next((a for a in current.database.current_acks(now()) if a.ref == ref), None)
    if held is None:
        return _error(404, f"no ack on {target}")
    if held.by != operator.name and not operator.lead:
        _audit(operator.name, "clear", target, f"refused: {held.by}'s ack; only a lead may clear it")
        return _error(403, f"only a lead may clear {held.by}'s ack")
    current.database.clear(*ref, now())
    current.board.folder.reload_status("acks")
    _audit(operator.name, "clear", target, f"ok: was {held.by}'s")
    return jsonify(ok=True)


@bp.post("/api/claim")
@_write
def claim(operator: Operator, body: dict[str, Any], ref: Ref | None, problem: str | None) -> Response:
    """"Assign to me": queued for the watcher, which alone writes to the helpdesk; ``/api/me`` tells how it went."""
    current = site()
    if not claims_on(current.config):
        return _error(404, "claims are off (set [freshservice] write_api_key_file)")
    if problem is not None or ref is None:
        return _error(400, problem or "ticket")
    target = _target(ref)
    if operator.agent_id is None:
        _audit(operator.name, "claim", target, "refused: the operator has no agent id")
        return _error(409, "you have no agent id: python -m gui operators add NAME --agent-id ID")
    if _row(ref) is None:
        _audit(operator.name, "claim", target, "refused: no such ticket on the wall")
        return _error(404, f"no ticket {target} on the wall")
    outbox = current.config.gui.claims_dir
    assert outbox is not None
    claims.tidy(outbox, claims.results(current.config.paths.tickets), now())
    made = claims.put(outbox, ref[1], operator.agent_id, operator.name, now())
    _audit(operator.name, "claim", target, f"queued for the watcher ({made.id})")
    response = jsonify(ok=True, claim=made.id, status="queued")
    response.status_code = 202
    return response


def _claims_of(name: str) -> list[dict[str, Any]]:
    """An operator's recent claims, newest first: queued, sending, done or failed (with why)."""
    config = site().config
    assert config.gui.claims_dir is not None
    known = claims.results(config.paths.tickets)
    found = [{"claim": c.id, "ticket": c.ticket, "status": "queued", "error": "", "at": timefmt.format(c.at)}
             for c in claims.waiting(config.gui.claims_dir, known) if c.by == name]
    found += [{"claim": claim_id, "ticket": r.get("ticket"), "status": r.get("status"), "error": r.get("error", ""),
               "at": r.get("at")} for claim_id, r in known.items() if r.get("by") == name]
    return sorted(found, key=lambda c: str(c["at"]), reverse=True)[:10]


def _body() -> dict[str, Any] | Response:
    if not request.is_json:
        return _error(400, "send JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "the body is not a JSON object")
    return body


def _ref(body: dict[str, Any]) -> tuple[Ref | None, str | None]:
    """(helpdesk, ticket) from a request body, or why not."""
    ticket, helpdesk = body.get("ticket"), body.get("helpdesk", "")
    if not is_id(ticket):
        return None, "ticket: a ticket number"
    several = site().config.helpdesks
    if several and helpdesk not in several:
        return None, f"helpdesk: one of {', '.join(several)}"
    if not several and helpdesk not in ("", None):
        return None, "helpdesk: only with [helpdesks]"
    return (helpdesk or "", ticket), None


def _target(ref: Ref) -> str:
    return f"{ref[0]} #{ref[1]}" if ref[0] else f"#{ref[1]}"


# -- signing in ----------------------------------------------------------------


@bp.get("/api/me")
def me() -> Response:
    session = current_session()
    if session is None:
        return _error(401, "not signed in")
    o = session.operator
    on = claims_on(site().config)
    return jsonify(name=o.name, role=o.role, agent_id=o.agent_id, csrf=session.csrf,
                   ack_minutes=site().config.gui.ack_minutes, claims_on=on, claims=_claims_of(o.name) if on else [])


@bp.get("/signin")
def signin_page() -> Response:
    return _signin_form("", 200)


def local_path(wanted: str) -> str:
    """*wanted* when it is a path on this dashboard, else "/": a redirect never leaves the site."""
    return wanted if wanted.startswith("/") and not wanted.startswith("//") and "\\" not in wanted else "/"


def _next_path() -> str:
    """Where to go after signing in."""
    return local_path(request.values.get("next", "/"))


@bp.post("/signin")
def signin() -> Response:
    current = site()
    address = request.remote_addr or "?"
    name = one_line(request.form.get("name", ""))[:80]
    wait = max(current.failures.blocked(address), current.failures.blocked("name:" + name.casefold()))
    if wait:
        return _signin_form("Too many wrong attempts: wait a minute and try again.", 429,
                            {"Retry-After": str(int(wait) + 1)})
    offered = request.form.get("csrf", "")
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(offered.encode("utf-8", "surrogateescape"), expected.encode()):
        return _signin_form("The form expired: please try again.", 403)
    operator = current.database.by_token(request.form.get("token", "").strip())
    if operator is None or operator.name.casefold() != name.casefold():
        current.failures.note(address)
        current.failures.note("name:" + name.casefold())
        _audit(name or "?", "sign-in", "", "refused: name or token wrong")
        return _signin_form("That name and token do not match an operator.", 401)
    session_id, _ = current.database.open_session(operator, current.config.gui.session_hours, now())
    _audit(operator.name, "sign-in", "", "ok")
    response = redirect(_next_path(), code=303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(current.config.gui.session_hours * 3600),
                        httponly=True, samesite="Strict", secure=request.is_secure)
    response.delete_cookie(SIGNIN_COOKIE)
    return response


@bp.post("/signout")
def signout() -> Response:
    operator = _writer()
    if isinstance(operator, Response):
        return operator
    site().database.close_session(request.cookies.get(SESSION_COOKIE, ""))
    _audit(operator.name, "sign-out", "", "ok")
    response = redirect("/", code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _signin_form(problem: str, status: int, headers: dict[str, str] | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = Response(render_template("signin.html", title=site().config.gui.title, csrf=token, problem=problem,
                                        next=_next_path()), status, headers)
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, httponly=True, samesite="Strict",
                        secure=request.is_secure)
    return response


# -- signed links from alerts -------------------------------------------------


@bp.route("/ack/<int:ticket>", methods=["GET", "POST"])
def ack_from_link(ticket: int) -> Response:
    """An alert's "Acknowledge" link: GET only shows what it would do (chat clients fetch links by
    themselves); the signed-in agent confirms with a POST carrying the session's CSRF token."""
    current = site()
    helpdesk, state, expires, offered = (request.args.get(k, "") for k in ("helpdesk", "state", "exp", "sig"))
    secret = current.link_secret
    if secret is None or not links.valid(secret, helpdesk, ticket, state, expires, offered, now()):
        return _link_page("This link is not one of this dashboard's, or it has expired.", 403)
    ref = (helpdesk, ticket)
    row = _row(ref)
    if row is None or row.state != state:
        now_is = f"it is now {WORDS.get(row.state, row.state)}" if row else "it is no longer on the wall"
        return _link_page(f"This link has expired: {_target(ref)} was {WORDS.get(state, state)}; {now_is}.", 410)
    session = current_session()
    if session is None:
        return _link_page("Sign in to acknowledge it.", 200, row=row, signin=request.full_path)
    if request.method == "GET":
        return _link_page("", 200, row=row, csrf=session.csrf)
    who = _who()  # the session's CSRF token, the writes' throttle: as for every write
    if isinstance(who, Refusal):
        return _link_page(f"Not done: {who.why}.", who.status)
    made = _acknowledge(who, row, current.config.gui.ack_minutes, "from an alert's link")
    until = made.until.astimezone().strftime("%H:%M")
    return _link_page(f"Done: you are on {_target(ref)} until {until}. The wall and the light say so.", 200)


def _link_page(message: str, status: int, row: Row | None = None, csrf: str = "", signin: str = "") -> Response:
    return Response(render_template("ack_link.html", title=site().config.gui.title, message=message,
                                    t=row.fields if row else None, csrf=csrf, signin=signin,
                                    words=WORDS), status)


# -- the audit, for leads ------------------------------------------------------------


@bp.get("/ack-log")
def ack_log() -> Response | tuple[str, int]:
    session = current_session()
    if session is None:
        return redirect("/signin", code=303)
    if not session.operator.lead:
        return "Only leads may read the audit.", 403
    return Response(render_template("ack_log.html", title=site().config.gui.title, entries=site().database.audit_log()))
