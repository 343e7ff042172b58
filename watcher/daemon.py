"""The watcher's loop: a cycle, a heartbeat, a pause; until told to stop."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any, Callable

from ticketdash import timefmt
from ticketdash.config import Config
from ticketdash.store import TicketStore
from watcher.client import ApiClient
from watcher.transport import MAX_RETRY_AFTER, Announce, SourceError
from watcher.sources import Source
from watcher.sources.demo import DemoSource
from watcher.sources.freshdesk import FreshdeskSource
from watcher.sources.freshservice import FreshserviceSource
from watcher.sources.zendesk import ZendeskSource
from watcher.sync import Syncer
from watcher.hooks import Pushes
from watcher.claims import Claimer

logger = logging.getLogger(__name__)

PUSH_BATCH = 20  # pushed tickets fetched at once, at most
CLAIM_LOOK_SECONDS = 2.0  # between cycles, how often the claims outbox is looked at


class Stopped(BaseException):
    """Raised out of any wait once a stop was asked for (SIGTERM, SIGINT)."""


def stoppable_sleep(stop: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped
    return sleep


def make_source(config: Config, sleep: Callable[[float], None], announce: Announce | None = None) -> Source:
    """The configured helpdesk's source, with one client under the configured budget."""
    settings = config.watcher
    if settings.source == "demo":
        return DemoSource(sleep=sleep)
    options: dict[str, Any] = dict(
        timeout=settings.timeout_seconds,
        max_calls_per_minute=settings.max_calls_per_minute,
        max_retries=settings.max_retries,
        backoff=settings.retry_backoff_seconds,
        sleep=sleep,
        announce=announce,
    )
    key = config.require_source()
    if settings.source == "freshdesk":
        client = ApiClient(config.freshdesk.api_url, key, product="Freshdesk",
                           redirect_hint="check [freshdesk] domain: the API lives on <account>.freshdesk.com",
                           **options)
        return FreshdeskSource(client, config.freshdesk.ticket_link)
    if settings.source == "zendesk":
        client = ApiClient(config.zendesk.api_url, key, product="Zendesk", user=f"{config.zendesk.email}/token",
                           redirect_hint="check [zendesk] subdomain: the API lives on <subdomain>.zendesk.com",
                           **options)
        return ZendeskSource(client, config.zendesk.ticket_link, sleep=sleep)
    client = ApiClient(config.freshservice.api_url, key, **options)
    return FreshserviceSource(client, settings.workspace_ids, config.freshservice.ticket_link)


class Watcher:
    """Runs cycles and records each attempt in the heartbeat, success or failure."""

    def __init__(self, config: Config, store: TicketStore, source: Source,
                 clock: Callable[[], datetime] = timefmt.now, claimer: Claimer | None = None) -> None:
        self.config = config
        self.store = store
        self.source = source
        self.clock = clock
        self.claimer = claimer
        self.syncer = Syncer(source, store, config.watcher, config.paths.names, clock)
        self.mask = config.api_key.mask if config.api_key else str
        self.account = config.api_url if source.name != "demo" else source.name
        self.pruned_on: date | None = None
        try:
            previous = store.read_heartbeat() or {}
        except ValueError:
            previous = {}
        held = timefmt.parse(previous.get("rate_limited_until"))
        if held is not None and held > clock() and previous.get("account") == self.account:
            source.hold(min(held, clock() + timedelta(seconds=MAX_RETRY_AFTER)))  # the account asked us to wait
        cursor = timefmt.parse(previous.get("cursor"))
        if cursor and previous.get("account") == self.account and store.read_raw():
            # Resume: what changed while stopped is listed since the cursor; no history sweep at start.
            self.syncer.cursor = min(cursor, clock())
            checkpoint = previous.get("source_checkpoint")
            source.checkpoint = checkpoint if isinstance(checkpoint, str) else None
        self.heartbeat: dict[str, Any] = {
            "source": source.name,
            "account": self.account,
            "ticket_link": source.link,
            "poll_seconds": config.watcher.interval,
            "stale_after": config.stale_after,
            "last_success_at": previous.get("last_success_at"),
            "last_attempt_at": None,
            "last_error": None,
            "cycles": 0,
        }

    def announce(self, seconds: float, why: str) -> None:
        """Before a wait longer than a poll interval: the heartbeat says why, and until when."""
        if seconds < self.config.watcher.interval:
            return
        until = self.clock() + timedelta(seconds=seconds)
        local = until.astimezone().strftime("%H:%M:%S")
        logger.warning("waiting %.0f s: %s until %s", seconds, why, local)
        self.heartbeat["waiting"] = {"until": timefmt.format(until), "why": f"{self.mask(why)} until {local}"}
        self._write_heartbeat()

    def run_cycle(self) -> bool:
        started = self.clock()
        began = time.monotonic()
        ok = False
        self._prune(started.date())
        self.source.set_deadline(began + self.config.watcher.cycle_timeout_seconds)
        try:
            result = self.syncer.cycle()
        except SourceError as error:
            logger.error("sync failed, keeping the last good data: %s", error)
            self.heartbeat["last_error"] = self.mask(str(error))
        except Exception as error:  # a bug must not end months of unattended running
            logger.exception("sync crashed, keeping the last good data")
            self.heartbeat["last_error"] = f"internal error: {type(error).__name__}"
        else:
            ok = True
            self.source.commit()
            self.heartbeat.update(
                source_checkpoint=self.source.checkpoint,
                last_success_at=timefmt.format(started),
                last_error=None,
                names_error=result.names_error,
                last_full_sync_at=timefmt.format(self.syncer.last_full) if self.syncer.last_full else None,
                cursor=timefmt.format(self.syncer.cursor) if self.syncer.cursor else None,
                counts={"active": result.active, "written": result.written, "archived": result.archived,
                        "confirmed": result.confirmed, "unconfirmed": len(self.syncer.unconfirmed)},
                api={"calls": result.calls, "credits": result.credits,
                     "remaining": self.source.usage.remaining, "total": self.source.usage.total},
            )
        finally:
            self.source.set_deadline(None)
        self.heartbeat.pop("waiting", None)
        held = self.source.usage.held_until
        self.heartbeat.update(
            rate_limited_until=timefmt.format(held) if held and held > self.clock() else None,
            cycles=self.heartbeat["cycles"] + 1,
            last_attempt_at=timefmt.format(started),
            duration_seconds=round(time.monotonic() - began, 3),
            pid=os.getpid(),
            skipped=self.syncer.skipped_list(),
        )
        self._write_heartbeat()
        return ok

    def _write_heartbeat(self) -> None:
        self.store.write_heartbeat(self.heartbeat)

    def _prune(self, today: date) -> None:
        """Once a day: archive days older than ``archive_days`` go."""
        days = self.config.watcher.archive_days
        if days and self.pruned_on != today:
            self.pruned_on = today
            removed = self.store.prune_archive(today - timedelta(days=days))
            if removed:
                logger.info("archive: removed %d day(s) older than %d days", removed, days)

    def run_forever(self, stop: threading.Event, pushes: Pushes | None = None) -> None:
        """A cycle every poll interval; between cycles, the tickets that pushes name, as they arrive,
        and the claims the dashboard queues."""
        interval = self.config.watcher.interval
        while not stop.is_set():
            if self.run_cycle():
                self.run_claims()
            due = time.monotonic() + interval
            while not stop.is_set() and (left := due - time.monotonic()) > 0:
                look = min(left, CLAIM_LOOK_SECONDS) if self.claimer is not None else left
                if pushes is not None and pushes.wake.wait(look) and self.run_pushes(pushes):
                    continue
                if self.claimer is not None and self.claimer.pending() and self.run_claims():
                    continue
                stop.wait(max(0.0, min(look, due - time.monotonic())))  # nothing to do, or the helpdesk is not answering

    def run_claims(self) -> bool:
        """Send the claims that wait, within the calls this minute leaves; False when none could go."""
        if self.claimer is None:
            return False
        self.source.set_deadline(time.monotonic() + self.config.watcher.timeout_seconds * 4)
        try:
            return self.claimer.run(self.source.usage.spare) > 0
        except Exception:  # a bug or a full disk must not end the watcher
            logger.exception("sending claims failed; they wait")
            return False
        finally:
            self.source.set_deadline(None)

    def run_pushes(self, pushes: Pushes) -> bool:
        """Fetch the tickets pushes named (within the calls this minute leaves); False when a call failed."""
        usage = self.source.usage
        ids = pushes.take(max(1, min(PUSH_BATCH, usage.spare - 2)))  # each call still waits its turn
        if not ids:
            return True
        self.source.set_deadline(time.monotonic() + self.config.watcher.timeout_seconds * 2)
        try:
            result, left = self.syncer.refresh(ids)
        except Exception:  # a bug or a full disk must not end the watcher: the next cycle will tell
            logger.exception("fetching pushed tickets failed; they wait for the next cycle")
            pushes.put_back(ids)
            return False
        finally:
            self.source.set_deadline(None)
        pushes.put_back(left)
        if result.written or result.archived:
            logger.info("push: %d ticket(s) fetched, %d written, %d archived", result.confirmed, result.written,
                        result.archived)
        self.heartbeat["pushes"] = {"received": pushes.received, "refused": pushes.refused,
                                    "fetched": self.heartbeat.get("pushes", {}).get("fetched", 0) + result.confirmed,
                                    "last_at": timefmt.format(self.clock())}
        self._write_heartbeat()
        return not left
