"""HTTP to a helpdesk, defended against a hostile or broken server; shared by every source.

The account's API budget is per minute and shared with every other
integration, so calls are paced under a ceiling of our own, slow down when
the remaining budget (``X-RateLimit-Remaining`` or ``X-Rate-Limit-Remaining``)
runs low, and on 429 wait exactly what ``Retry-After`` says. Transient
failures (5xx, timeouts, resets, truncated or malformed bodies) are retried
with backoff. Each call is bounded as a whole, not per read: a server that
drips one byte a second is cut at the deadline, by shutting down the
sockets this transport opened (urllib3's connection classes are extended
for that: `setup.cfg` pins urllib3 2, and `_TrackingAdapter` checks at start
that the pool manager still has the hook it uses). Bodies are capped, and
JSON nested too deep is split into its list items, so one hostile ticket
costs only itself.
"""

from __future__ import annotations

import collections
import json
import logging
import re
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024  # 100 tickets with long descriptions are a few MB
MAX_RETRY_AFTER = 3600.0  # a Retry-After longer than an hour is read as an hour
DEFAULT_RETRY_AFTER = 60.0  # a 429 without a readable Retry-After
LONG_NUMBER = 40  # digits: a longer number is not an id or a count, and is kept as text


class SourceError(Exception):
    """A source could not deliver this cycle's tickets; the cycle changes nothing."""


class ApiError(SourceError):
    """A call that failed for good (after any retries)."""


class _Transient(Exception):
    """A failure worth retrying; carries how long to wait first (None: backoff)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class Answer:
    """A final answer (not a 429, not a 5xx): its status, its JSON when 200, its raw body."""

    status: int
    body: Any
    content: bytes
    response: requests.Response


@dataclass
class Usage:
    """What the API cost so far: calls made and rate-limit credits charged."""

    calls: int = 0
    credits: int = 0
    retries: int = 0
    remaining: int | None = None  # the account's budget left this minute, as last reported
    total: int | None = None
    server_time: datetime | None = None  # the last answer's Date header
    held_until: datetime | None = None  # a 429's Retry-After: no call before then (kept across restarts)
    spare: int = 0  # calls still free under the ceiling in the last minute, after the last call


Announce = Callable[[float, str], None]  # (seconds, why): a long wait is about to start


class Pacer:
    """Spaces calls: never more than *per_minute* in any 60 s, slower when the budget runs low."""

    def __init__(self, per_minute: int, clock: Callable[[], float], sleep: Callable[[float], None],
                 announce: Announce | None = None, product: str = "Freshservice") -> None:
        self.per_minute = per_minute
        self.product = product
        self.clock = clock
        self.sleep = sleep
        self.announce = announce
        self.sent: collections.deque[float] = collections.deque()
        self.pause_until = 0.0
        self.why = "pacing under the calls-per-minute ceiling"

    def before_call(self) -> None:
        now = self.clock()
        while self.sent and self.sent[0] <= now - 60:
            self.sent.popleft()
        wait = self.pause_until - now
        if len(self.sent) >= self.per_minute:
            wait = max(wait, self.sent[0] + 60 - now)
        if wait > 0:
            logger.debug("pacing: waiting %.1f s", wait)
            if self.announce is not None:
                self.announce(wait, self.why if self.pause_until - now >= wait else "pacing under the ceiling")
            self.sleep(wait)
        self.sent.append(self.clock())

    def spare(self) -> int:
        """Calls that can still be made in the current minute without waiting."""
        now = self.clock()
        return self.per_minute - sum(1 for sent in self.sent if sent > now - 60)

    def after_response(self, remaining: int | None, total: int | None) -> None:
        """Spread what is left of the account's budget when it runs low."""
        if remaining is None or not total:
            return
        low = max(3, total // 10)
        if remaining <= low:
            pause = min(60.0, 60.0 / (remaining + 1))
            logger.info("API budget low (%d of %d left): pausing %.0f s between calls", remaining, total, pause)
            self.pause_until = self.clock() + pause
            self.why = f"{self.product}'s API budget is low ({remaining} of {total} left)"

    def hold(self, seconds: float, why: str) -> None:
        """After a 429: no call for *seconds*, whoever makes it."""
        if self.clock() + seconds > self.pause_until:
            self.pause_until, self.why = self.clock() + seconds, why


def _header_int(response: requests.Response, *names: str) -> int | None:
    """The first of *names* that the answer carries as a number."""
    for name in names:
        try:
            return int(response.headers[name])
        except (KeyError, ValueError):
            continue
    return None


class Transport:
    """HTTP to one helpdesk account, defended against a hostile or broken server: paced under a
    calls-per-minute ceiling, every call bounded as a whole (connection, headers, body) and in size,
    429s waited out (also across cycles: `hold`), transient failures retried, JSON parsed safely.

    It knows nothing of what the answers mean: `watcher.client.ApiClient` maps them to the API.
    """

    def __init__(
        self,
        auth: tuple[str, str],
        *,
        product: str = "Freshservice",
        timeout: float = 30.0,
        max_calls_per_minute: int = 40,
        max_retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        announce: Announce | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        budget: Transport | None = None,
    ) -> None:
        """*budget*: another client of the same account (with another key) whose pace, usage and holds
        this one shares: one account, one calls-per-minute ceiling."""
        self.timeout = timeout  # the whole call: connecting, headers and every byte of the body
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.announce = announce
        self.max_body_bytes = max_body_bytes
        self.deadline: float | None = None  # the current cycle's, on *clock*
        self.product = product
        self.pacer = budget.pacer if budget else Pacer(max_calls_per_minute, clock, sleep, announce, product)
        self.usage = budget.usage if budget else Usage()
        self.sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", "User-Agent": "ticketdash-watcher"})
        adapter = _TrackingAdapter(self.sockets)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def call(self, url: str, params: dict[str, Any] | None, method: str = "GET",
             body: dict[str, Any] | None = None) -> Answer:
        """*method* *url* (with a JSON *body*): the answer, after waiting out 429s and retrying what is
        worth retrying; ApiError when it failed for good. A POST is retried only after a 429 (the
        helpdesk did nothing); after anything else it may have done it, and twice is worse than never."""
        path = urlsplit(url).path
        attempt = 0
        while True:
            self._check_deadline(path)
            try:
                return self._once(url, params, path, method, body)
            except _Transient as problem:
                attempt += 1
                if attempt > self.max_retries or (method == "POST" and problem.wait is None):
                    raise ApiError(f"{method} {path}: {problem} (gave up after {attempt} tries)") from None
                wait = problem.wait if problem.wait is not None else self.backoff * 2 ** (attempt - 1)
                self.usage.retries += 1
                why = f"rate limited by {self.product}" if problem.wait is not None else f"retrying after {problem}"
                if problem.wait is not None:  # the whole budget waits, whoever calls next, even after a restart
                    self.hold(datetime.now(timezone.utc) + timedelta(seconds=wait))
                if self.deadline is not None and self.clock() + wait > self.deadline:
                    until = datetime.now(timezone.utc).timestamp() + wait
                    raise ApiError(f"{why} until {_clock_time(until)}" if problem.wait is not None
                                   else f"{why} until {_clock_time(until)}: more than this cycle may wait")
                logger.warning("%s %s: %s; retry %d in %.1f s", method, path, problem, attempt, wait)
                if problem.wait is None:  # after a 429 the pacer waits out the hold before the next call
                    if self.announce is not None:
                        self.announce(wait, why)
                    self.sleep(wait)

    def _check_deadline(self, path: str) -> None:
        if self.deadline is not None and self.clock() >= self.deadline:
            raise ApiError(f"GET {path}: the cycle ran out of time")

    def hold(self, until: datetime) -> None:
        """No call before *until* (wall clock): a 429 said so, in this run or the one before."""
        if self.usage.held_until is None or until > self.usage.held_until:
            self.usage.held_until = until
        wait = (until - datetime.now(timezone.utc)).total_seconds()
        if wait > 0:
            self.pacer.hold(wait, f"rate limited by {self.product}")

    def _check_hold(self) -> None:
        """A hold that outlasts this cycle fails it at once: no call is spent on an account that asked
        to be left alone, and the heartbeat says until when."""
        until = self.usage.held_until
        if until is None:
            return
        wait = (until - datetime.now(timezone.utc)).total_seconds()
        if wait <= 0:
            self.usage.held_until = None
        elif self.deadline is not None and self.clock() + wait > self.deadline:
            raise ApiError(f"rate limited by {self.product} until {_clock_time(until.timestamp())}")

    def _once(self, url: str, params: dict[str, Any] | None, path: str, method: str = "GET",
              body: dict[str, Any] | None = None) -> Answer:
        self._check_hold()
        self.pacer.before_call()
        self._check_deadline(path)
        self.usage.calls += 1
        limit = self.timeout
        if self.deadline is not None:
            limit = max(0.1, min(limit, self.deadline - self.clock()))
        expired = threading.Event()

        def abort() -> None:  # the whole call's deadline: cut every socket this client has open
            expired.set()
            for sock in list(self.sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(limit, abort)
        timer.daemon = True
        timer.start()
        try:
            response = self.session.request(method, url, params=params, json=body, timeout=(min(10.0, limit), limit),
                                            allow_redirects=False, stream=True)
            try:
                content = self._read(response, path)
            finally:
                response.close()
        except requests.Timeout:
            raise _Transient("timed out") from None
        except requests.ConnectionError as error:
            if expired.is_set():
                raise _Transient(f"timed out (the whole call took over {limit:g} s)") from None
            raise _Transient(f"cannot reach {urlsplit(url).netloc}: {type(error).__name__}") from None
        except requests.RequestException as error:
            if expired.is_set():
                raise _Transient(f"timed out (the whole call took over {limit:g} s)") from None
            raise _Transient(f"broken response: {type(error).__name__}") from None
        finally:
            timer.cancel()
        if expired.is_set():
            raise _Transient(f"timed out (the whole call took over {limit:g} s)")

        used = _header_int(response, "X-RateLimit-Used-CurrentRequest")
        self.usage.credits += used if used is not None else 1
        remaining = _header_int(response, "X-RateLimit-Remaining", "X-Rate-Limit-Remaining")
        total = _header_int(response, "X-RateLimit-Total", "X-Rate-Limit")
        if remaining is not None:
            self.usage.remaining, self.usage.total = remaining, total
        self.usage.server_time = _date_header(response) or self.usage.server_time
        self.pacer.after_response(remaining, total)
        self.usage.spare = self.pacer.spare() if self.pacer.pause_until <= self.clock() else 0
        status = response.status_code
        if status == 429:
            retry_after = _header_int(response, "Retry-After")
            wait = min(float(retry_after), MAX_RETRY_AFTER) if retry_after is not None and retry_after >= 0 \
                else DEFAULT_RETRY_AFTER
            raise _Transient("rate limited (429)", wait=wait)
        if status >= 500:
            raise _Transient(f"server error ({status})")
        if status not in (200, 201):
            return Answer(status, None, content, response)
        try:
            body = json.loads(content.decode("utf-8"), parse_int=_int)
        except RecursionError:
            body = _shallow(content)
        except ValueError:
            raise _Transient("malformed JSON body") from None
        if not isinstance(body, (dict, list)):
            raise _Transient("malformed body (not a JSON object or list)")
        return Answer(status, body, content, response)

    def _read(self, response: requests.Response, path: str) -> bytes:
        """The body, at most *max_body_bytes* (a hostile answer must not fill the memory)."""
        declared = _header_int(response, "Content-Length")
        if declared is not None and declared > self.max_body_bytes:
            raise ApiError(f"GET {path}: the answer is larger than {self.max_body_bytes} bytes")
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ApiError(f"GET {path}: the answer is larger than {self.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


class _TrackingAdapter(HTTPAdapter):
    """Remembers every socket it opens, so that a call's deadline can cut them."""

    def __init__(self, sockets: weakref.WeakSet[socket.socket]) -> None:
        self.sockets = sockets
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        sockets = self.sockets

        class Connection(HTTPConnection):
            def connect(self) -> None:
                super().connect()
                sockets.add(self.sock)

        class SecureConnection(HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                sockets.add(self.sock)

        class Pool(HTTPConnectionPool):
            ConnectionCls = Connection

        class SecurePool(HTTPSConnectionPool):
            ConnectionCls = SecureConnection

        if not isinstance(getattr(self.poolmanager, "pool_classes_by_scheme", None), dict):
            raise RuntimeError("this urllib3 has no PoolManager.pool_classes_by_scheme: the watcher cannot bound "
                               "its calls; install the urllib3 that setup.cfg names")
        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SecurePool}


def _int(text: str) -> int | str:
    """A JSON integer; an absurdly long one stays text (an id check then refuses it)."""
    return int(text) if len(text) <= LONG_NUMBER else text


def _shallow(content: bytes) -> dict[str, Any] | list[Any]:
    """A body too deeply nested to parse whole: each list item parsed alone, so one ticket
    nested 100,000 deep costs only that ticket (kept as ``{"id": ..., "_unparsed": why}``).
    The list is the body itself or its first key's value."""
    text = content.decode("utf-8")
    match = re.match(r'\s*\{\s*"(\w+)"\s*:\s*\[', text) or re.match(r"\s*\[", text)
    if not match:
        raise _Transient("malformed body (nested too deep)")
    items = []
    for raw in _split_items(text, match.end()):
        try:
            item = json.loads(raw, parse_int=_int)
        except RecursionError:
            found = re.match(r'\s*\{\s*"id"\s*:\s*(-?\d{1,40})\b', raw)
            item = {"id": int(found.group(1)) if found else None, "_unparsed": "nested too deep"}
        except ValueError:
            raise _Transient("malformed JSON body") from None
        items.append(item)
    return {match.group(1): items} if match.groups() else items


def _split_items(text: str, start: int) -> Iterator[str]:
    """The top-level items of the JSON array whose ``[`` ends just before *start*, as text."""
    depth, in_string, escaped, begin = 0, False, False, start
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:  # the end of the array
                if text[begin:index].strip():
                    yield text[begin:index]
                return
            depth -= 1
        elif char == "," and depth == 0:
            yield text[begin:index]
            begin = index + 1
    raise _Transient("malformed JSON body (truncated)")


def _date_header(response: requests.Response) -> datetime | None:
    try:
        moment = parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _clock_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%H:%M:%S")
