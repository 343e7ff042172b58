"""The one helpdesk API client: objects, pages and what the statuses mean, over the defended transport.

Every source (Freshservice, Freshdesk, Zendesk) speaks through it. Pacing,
deadlines, caps, retries and 429s are `watcher.transport`'s; what a source's
answers mean is the source's business, not this one's. Errors never carry
the key.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

import requests

from ticketdash.secrets import Secret
from watcher.transport import ApiError, Transport

logger = logging.getLogger(__name__)

PER_PAGE = 100
MAX_PAGES = 2000  # 200,000 tickets: a listing longer than this is a loop, not a helpdesk

class AuthError(ApiError):
    """401/403: retrying will not help until someone fixes the key or its role."""


class NotFound(ApiError):
    """404 for one object."""


class BadRequest(ApiError):
    """400: the helpdesk does not accept the request as asked."""


class ApiClient(Transport):
    """A helpdesk's REST API over the defended `Transport`: objects, pages by the ``link`` header, and
    what its statuses mean (401, 403, 404, 400, redirects)."""

    def __init__(self, api_url: str, api_key: Secret, *, user: str | None = None,
                 redirect_hint: str = "check [freshservice] domain: the API lives on <account>.freshservice.com",
                 max_pages: int = MAX_PAGES, **transport: Any) -> None:
        """*user*: HTTP Basic's user name (None: the key itself, with "X" as password); *transport*: the
        `Transport`'s options (product, timeout, max_calls_per_minute, sleep, clock, budget ...)."""
        super().__init__((api_key.reveal(), "X") if user is None else (user, api_key.reveal()), **transport)
        self.user, self.options = user, transport
        self.api_url = api_url.rstrip("/")
        self.max_pages = max_pages
        self.redirect_hint = redirect_hint
        self.key = api_key
        self._origin = urlsplit(self.api_url)[:2]

    def __repr__(self) -> str:
        return f"ApiClient({self.product}, {self.api_url!r})"

    def with_key(self, api_key: Secret) -> ApiClient:
        """The same account with another key (one that may write), under the same budget: one pacer,
        one usage, one hold after a 429."""
        return ApiClient(self.api_url, api_key, user=self.user, redirect_hint=self.redirect_hint,
                         max_pages=self.max_pages, **{**self.options, "budget": self})

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /api/v2/<path>``: the changed object."""
        answer, _ = self._call(f"{self.api_url}/{path.lstrip('/')}", None, "PUT", body)
        if not isinstance(answer, dict):
            raise _malformed(path, "not a JSON object", "PUT")
        return answer

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v2/<path>``: the created object (never retried but after a 429)."""
        answer, _ = self._call(f"{self.api_url}/{path.lstrip('/')}", None, "POST", body)
        if not isinstance(answer, dict):
            raise _malformed(path, "not a JSON object", "POST")
        return answer

    # -- public calls ----------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One object or page: ``GET /api/v2/<path>``."""
        body, _ = self._call(f"{self.api_url}/{path.lstrip('/')}", params)
        if not isinstance(body, dict):
            raise _malformed(path, "not a JSON object")
        return body

    def find(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """One object, or None when the helpdesk answers 404 (it does not exist, or no longer)."""
        try:
            return self.get(path, params)
        except NotFound:
            return None

    def get_url(self, url: str) -> dict[str, Any]:
        """A next page the helpdesk named in its answer (only ever on the configured host)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ApiError(f"GET {parts.path}: the next page is not a web address")
        body, _ = self._call(urlunsplit(self._origin + parts[2:]), None)
        if not isinstance(body, dict):
            raise _malformed(parts.path, "not a JSON object")
        return body

    def pages(self, path: str, key: str | None, params: dict[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, 100 at a time, following the ``link`` header; *key* None: the
        body is the list itself (Freshdesk's way)."""
        url: str | None = f"{self.api_url}/{path.lstrip('/')}"
        query: dict[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        seen = set()
        while url:
            if len(seen) >= self.max_pages:
                raise ApiError(f"GET {path}: more than {self.max_pages} pages; the listing looks endless")
            body, response = self._call(url, query)
            items = body if key is None else body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise ApiError(f"GET {path}: malformed response (no '{key or 'list'}')")
            yield items
            url, query = self._next_link(response), None
            if url in seen:
                raise ApiError(f"GET {path}: the link header loops back to {url}")
            seen.add(url)

    # -- plumbing --------------------------------------------------------

    def _next_link(self, response: requests.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        parts = urlsplit(link)
        # Only ever send the key to the configured API host.
        return urlunsplit(self._origin + parts[2:]) if parts[:2] != self._origin else link

    def _call(self, url: str, params: dict[str, Any] | None, method: str = "GET",
              body: dict[str, Any] | None = None) -> tuple[Any, requests.Response]:
        """The JSON of a 200 (or 201) answer; any other status as the API's error."""
        answer = self.call(url, params, method, body)
        path = urlsplit(url).path
        status, content = answer.status, answer.content
        if 300 <= status < 400:
            raise ApiError(f"{method} {path}: redirected ({status}); redirects are never followed ({self.redirect_hint})")
        if status == 401:
            raise AuthError(f"{self.product} rejected the API key (401)")
        if status == 403:
            raise AuthError(f"{self.product} denied access to {path} (403): check the key's agent role")
        if status == 404:
            raise NotFound(f"{method} {path}: not found (404)")
        if status == 400:
            raise BadRequest(f"{method} {path}: HTTP 400{_codes(content)}")
        if status not in (200, 201):
            raise ApiError(f"{method} {path}: HTTP {status}{_codes(content)}")
        return answer.body, answer.response


def _malformed(path: str, why: str, method: str = "GET") -> ApiError:
    return ApiError(f"{method} {path}: malformed response ({why})")


def _codes(content: bytes) -> str:
    """What an error answer says, as the helpdesk's own codes only: a body is never copied raw."""
    try:
        body = json.loads(content.decode("utf-8"))
    except (ValueError, RecursionError):
        return ""
    if not isinstance(body, dict):
        return ""
    words = [body.get("code")] + [e.get(k) for e in body.get("errors") or [] if isinstance(e, dict)
                                  for k in ("field", "code")]
    safe = [w for w in words if isinstance(w, str) and re.fullmatch(r"[a-z_]{1,40}", w)]
    return f" ({', '.join(dict.fromkeys(safe))})" if safe else ""
