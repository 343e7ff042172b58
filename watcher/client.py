"""The one Freshservice HTTP client: session, auth, timeouts, retries, pacing, paging.

The account's API budget is per minute and shared with every other
integration, so the client paces itself under a ceiling of its own, slows
down when ``X-RateLimit-Remaining`` runs low, and on 429 waits exactly what
``Retry-After`` says. Transient failures (5xx, timeouts, resets, truncated or
malformed bodies) are retried with backoff; anything else is a
``FreshserviceError`` whose text never carries the API key.
"""

from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import requests

from ticketdash.config import Secret

logger = logging.getLogger(__name__)

PER_PAGE = 100


class SourceError(Exception):
    """A source could not deliver this cycle's tickets; the cycle changes nothing."""


class FreshserviceError(SourceError):
    """A call that failed for good (after any retries)."""


class AuthError(FreshserviceError):
    """401/403: retrying will not help until someone fixes the key or its role."""


class NotFound(FreshserviceError):
    """404 for one object."""


class _Transient(Exception):
    """A failure worth retrying; carries how long to wait first (None: backoff)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass
class Usage:
    """What the API cost so far: calls made and rate-limit credits charged."""

    calls: int = 0
    credits: int = 0
    retries: int = 0
    remaining: int | None = None  # Freshservice's budget left this minute, as last reported
    total: int | None = None


class Pacer:
    """Spaces calls: never more than *per_minute* in any 60 s, slower when the budget runs low."""

    def __init__(self, per_minute: int, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep
        self.sent: collections.deque[float] = collections.deque()
        self.pause_until = 0.0

    def before_call(self) -> None:
        now = self.clock()
        while self.sent and self.sent[0] <= now - 60:
            self.sent.popleft()
        wait = self.pause_until - now
        if len(self.sent) >= self.per_minute:
            wait = max(wait, self.sent[0] + 60 - now)
        if wait > 0:
            logger.debug("pacing: waiting %.1f s", wait)
            self.sleep(wait)
        self.sent.append(self.clock())

    def after_response(self, remaining: int | None, total: int | None) -> None:
        """Spread what is left of the account's budget when it runs low."""
        if remaining is None or not total:
            return
        low = max(3, total // 10)
        if remaining <= low:
            pause = min(60.0, 60.0 / (remaining + 1))
            logger.info("API budget low (%d of %d left): pausing %.0f s between calls", remaining, total, pause)
            self.pause_until = self.clock() + pause

    def hold(self, seconds: float) -> None:
        """After a 429: no call for *seconds*, whoever makes it."""
        self.pause_until = max(self.pause_until, self.clock() + seconds)


def _header_int(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


class FreshserviceClient:
    def __init__(
        self,
        api_url: str,
        api_key: Secret,
        *,
        timeout: float = 30.0,
        max_calls_per_minute: int = 40,
        max_retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = (min(10.0, timeout), timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self.pacer = Pacer(max_calls_per_minute, clock, sleep)
        self.usage = Usage()
        self.session = requests.Session()
        self.session.auth = (api_key.reveal(), "X")
        self.session.headers.update({"Accept": "application/json", "User-Agent": "ticketdash-watcher"})
        self._origin = urlsplit(self.api_url)[:2]

    def __repr__(self) -> str:
        return f"FreshserviceClient({self.api_url!r})"

    def close(self) -> None:
        self.session.close()

    # -- public calls ----------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One object or page: ``GET /api/v2/<path>``."""
        body, _ = self._call(f"{self.api_url}/{path.lstrip('/')}", params)
        return body

    def pages(self, path: str, key: str, params: dict[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, 100 at a time, following the ``link`` header."""
        url: str | None = f"{self.api_url}/{path.lstrip('/')}"
        query: dict[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        seen = set()
        while url:
            body, response = self._call(url, query)
            items = body.get(key)
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise FreshserviceError(f"GET {path}: malformed response (no '{key}' list)")
            yield items
            url, query = self._next_link(response), None
            if url in seen:
                raise FreshserviceError(f"GET {path}: the link header loops back to {url}")
            seen.add(url)

    # -- plumbing --------------------------------------------------------

    def _next_link(self, response: requests.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        parts = urlsplit(link)
        # Only ever send the key to the configured API host.
        return urlunsplit(self._origin + parts[2:]) if parts[:2] != self._origin else link

    def _call(self, url: str, params: dict[str, Any] | None) -> tuple[dict[str, Any], requests.Response]:
        path = urlsplit(url).path
        attempt = 0
        while True:
            try:
                return self._once(url, params, path)
            except _Transient as problem:
                attempt += 1
                if attempt > self.max_retries:
                    raise FreshserviceError(f"GET {path}: {problem} (gave up after {attempt} tries)") from None
                wait = problem.wait if problem.wait is not None else self.backoff * 2 ** (attempt - 1)
                self.usage.retries += 1
                logger.warning("GET %s: %s; retry %d in %.1f s", path, problem, attempt, wait)
                if problem.wait is not None:
                    self.pacer.hold(wait)
                else:
                    self.sleep(wait)

    def _once(self, url: str, params: dict[str, Any] | None, path: str) -> tuple[dict[str, Any], requests.Response]:
        self.pacer.before_call()
        self.usage.calls += 1
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
            content = response.content
        except requests.Timeout:
            raise _Transient("timed out") from None
        except requests.ConnectionError as error:
            raise _Transient(f"cannot reach {urlsplit(url).netloc}: {type(error).__name__}") from None
        except requests.RequestException as error:
            raise _Transient(f"broken response: {type(error).__name__}") from None

        used = _header_int(response, "X-RateLimit-Used-CurrentRequest")
        self.usage.credits += used if used is not None else 1
        remaining, total = _header_int(response, "X-RateLimit-Remaining"), _header_int(response, "X-RateLimit-Total")
        if remaining is not None:
            self.usage.remaining, self.usage.total = remaining, total
        self.pacer.after_response(remaining, total)
        status = response.status_code
        if status == 429:
            retry_after = _header_int(response, "Retry-After")
            wait = float(retry_after) if retry_after is not None and 0 <= retry_after <= 3600 else 60.0
            raise _Transient("rate limited (429)", wait=wait)
        if status >= 500:
            raise _Transient(f"server error ({status})")
        if status == 401:
            raise AuthError("Freshservice rejected the API key (401)")
        if status == 403:
            raise AuthError(f"Freshservice denied access to {path} (403): check the key's agent role")
        if status == 404:
            raise NotFound(f"GET {path}: not found (404)")
        if status != 200:
            raise FreshserviceError(f"GET {path}: HTTP {status}: {content[:200].decode('utf-8', 'replace')}")
        try:
            body = response.json()
        except ValueError:
            raise _Transient("malformed JSON body") from None
        if not isinstance(body, dict):
            raise _Transient("malformed body (not a JSON object)")
        return body, response
