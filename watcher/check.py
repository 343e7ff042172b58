"""``python -m watcher --check``: one read-only round trip that says whether the watcher can work.

It uses the service's own settings and key but takes no lock and writes
nothing, so it can run beside the running service: what a new admin needs
after typing in a domain and a key.
"""

from __future__ import annotations

import time
from typing import TextIO
from urllib.parse import urlsplit

from ticketdash.config import Config
from watcher.client import AuthError
from watcher.sources import Source
from watcher.transport import SourceError

CHECK_SECONDS = 60.0  # a check that cannot finish in a minute says why instead of waiting out a 429


def check(config: Config, source: Source, out: TextIO) -> int:
    """Print what the helpdesk showed the key (0), or exactly why it could not (1)."""
    if source.name == "demo":
        print("[watcher] source is \"demo\": the built-in demo helpdesk, no account to check. Set source to "
              "freshservice, freshdesk or zendesk and its account section (README \"Connecting to Freshservice\").",
              file=out)
        return 1
    where = urlsplit(config.api_url).netloc or config.api_url
    source.set_deadline(time.monotonic() + CHECK_SECONDS)
    try:
        visible = source.visible()
        owner = source.owner()
    except AuthError as error:
        print(f"{where}: {error}. The key is read from {_key_origin(config)}.", file=out)
        return 1
    except SourceError as error:
        print(f"{where}: cannot check: {error}", file=out)
        return 1
    ceiling = config.watcher.max_calls_per_minute
    budget = (f"the account allows {source.usage.total} calls a minute" if source.usage.total
              else "the account does not say its rate limit")
    whose = f"the key belongs to {owner}" if owner else f"{source.label} does not say whose key this is"
    print(f"{where}: {visible} active tickets visible, {budget} (the watcher uses at most {ceiling}), {whose}.",
          file=out)
    return 0


def _key_origin(config: Config) -> str:
    """Where the key came from, by name only: the admin's next place to look."""
    key, file = config.account.key_file
    return f"[{config.watcher.source}] {key} ({file}), unless its environment variable or systemd's credential is set"
