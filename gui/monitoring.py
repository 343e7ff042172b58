"""What monitors read: ``/healthz`` (open, counts only) and ``/metrics`` (Prometheus, behind the access rules)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ticketdash import timefmt

from gui.metrics import exposition
from gui.site import site

bp = Blueprint("monitoring", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """200 only when the data is fit to be shown; 503 (same body) when stale or broken.

    Open to monitors; without the key (when there is one) it says only ok, stale or error: the reason
    can name the account and the watcher's error.
    """
    verdict = site().board.rendered().verdict
    if site().access.holds_key(request, timefmt.now()):
        body = jsonify(status=verdict.status, reason=verdict.reason, worst=verdict.worst,
                       data_as_of=verdict.data_as_of, tickets=sum(verdict.counts.values()),
                       unreadable=len(verdict.unreadable), demo=verdict.demo)  # counts, no ticket text
    else:
        body = jsonify(status=verdict.status, demo=verdict.demo)
    body.status_code = 200 if verdict.status == "ok" else 503
    return body


@bp.get("/metrics")
def metrics() -> Response:
    return Response(exposition(site().board.rendered().verdict),
                    headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
