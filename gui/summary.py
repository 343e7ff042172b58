"""The weekly summary: a page for people, JSON for anything else."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from ticketdash import summary as figures
from gui.site import site

bp = Blueprint("summary", __name__)


@bp.get("/summary")
def page() -> str:
    current = site().weekly.current()
    return render_template("summary.html", title=site().config.gui.title, s=current, data=figures.as_json(current),
                           bars=figures.bars(current.daily_breaches), duration=figures.duration)


@bp.get("/api/summary")
def api() -> Response:
    return jsonify(figures.as_json(site().weekly.current()))
