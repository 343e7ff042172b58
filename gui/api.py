"""The board as JSON for the page, blinky's remote mode and anything else that reads it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gui.board import UnknownView
from gui.site import site

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/board")
def board() -> Response:
    current = site()
    view = request.args.get("view", current.config.gui.default_view)
    agent_arg = request.args.get("agent")
    try:
        agent = int(agent_arg) if agent_arg else None
        rendered = current.board.rendered(view, agent)
    except ValueError:
        return jsonify(error="agent must be an agent's numeric ID"), 400  # type: ignore[return-value]
    except UnknownView:
        return jsonify(error=f"no view {view!r}",  # type: ignore[return-value]
                       views=[v["slug"] for v in current.board.view_list()]), 404
    if request.if_none_match.contains_weak(rendered.etag[3:-1]):  # W/"<tag>": compare the tag
        return Response(status=304, headers={"ETag": rendered.etag})
    headers = {"ETag": rendered.etag, "Content-Type": "application/json", "Vary": "Accept-Encoding"}
    if "gzip" in request.accept_encodings:
        headers["Content-Encoding"] = "gzip"
        return Response(rendered.gzipped(), headers=headers)
    return Response(rendered.body, headers=headers)
