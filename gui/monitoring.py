"""What monitors read: ``/healthz`` (open, counts only) and ``/metrics`` (Prometheus, behind the access rules)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gui.metrics import exposition
from gui.site import site

bp = Blueprint("monitoring", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """200 only when the data is fit to be shown; 503 (same body) when stale or broken."""
    verdict = site().board.rendered().verdict
    body = jsonify(status=verdict.status, reason=verdict.reason, worst=verdict.worst,
                   data_as_of=verdict.data_as_of, tickets=sum(verdict.counts.values()),
                   unreadable=len(verdict.unreadable))  # open to monitors: counts, no ticket text
    body.status_code = 200 if verdict.status == "ok" else 503
    return body


@bp.get("/metrics")
def metrics() -> Response:
    return Response(exposition(site().board.rendered().verdict),
                    headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
