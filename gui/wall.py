"""The pages people look at: the wall (one view, or a TV's rotation) and one mirrored ticket."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request

from ticketdash import timefmt
from ticketdash.states import WORDS
from gui.site import site

bp = Blueprint("wall", __name__)


def _wall(view: str, rotation: list[str], rotate_seconds: float, title: str) -> str:
    gui = site().config.gui
    return render_template("board.html", title=title, views=site().board.view_list(), view=view, rotation=rotation,
                           rotate_seconds=rotate_seconds, agent=request.args.get("agent", ""),
                           refresh=gui.refresh_seconds, page_seconds=gui.page_seconds, chime=gui.chime,
                           chime_quiet_hours=timefmt.format_quiet_hours(gui.chime_quiet_hours))


@bp.get("/")
def page() -> str:
    config = site().config
    view = request.args.get("view", config.gui.default_view)
    if view not in site().board.views:
        abort(404)
    return _wall(view, [view], 0, config.gui.title)


@bp.get("/wall/<name>")
def wall_page(name: str) -> str:
    """One TV's profile: the views it rotates through (``[walls.<name>]``)."""
    config = site().config
    profile = config.walls.get(name)
    if profile is None:
        abort(404)
    return _wall(profile.views[0], profile.views, profile.rotate_seconds, f"{config.gui.title} · {profile.title}")


@bp.get("/ticket/<int:ticket_id>")
def ticket_page(ticket_id: int) -> str:
    """One mirrored ticket, read-only (where the demo's ticket numbers link to)."""
    helpdesk = request.args.get("helpdesk", "")
    found = next((r for r in site().board.rendered().verdict.rows() if r.ref == (helpdesk, ticket_id)), None)
    if found is None:
        abort(404)
    due = found.due_at.astimezone().strftime("%a %d %b %H:%M") if found.due_at else "no deadline"
    kind = "first response" if found.first_response else "resolution"
    return render_template("ticket.html", title=site().config.gui.title, t=found.fields, state=WORDS[found.state],
                           due=f"{kind} due {due}" if found.due_at else due, ack=found.ack)


def not_found(error: Exception) -> Response:
    """A typo'd address: what there is, instead of a bare 404 (JSON under /api/)."""
    current = site()
    views = current.board.view_list()
    if request.path.startswith("/api/"):
        return Response(json.dumps({"error": "not found", "views": [v["slug"] for v in views]}), 404,
                        {"Content-Type": "application/json"})
    return Response(render_template("not_found.html", title=current.config.gui.title, views=views,
                                    walls=sorted(current.config.walls)), 404)
