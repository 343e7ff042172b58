"""ID-to-name mapping files: ``id:Name`` lines, one per person, status or group.

Two places, read in this order, the later winning:

- ``tickets/_names/<kind>.txt``: what the watcher discovered from the API.
  The watcher rewrites these; nobody else should.
- ``config/<kind>.txt``: what a person wrote. The watcher never touches
  them, so a person's edit survives every refresh.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ticketdash.store import MAX_STATUS_BYTES, atomic_write, read_regular
from ticketdash.text import one_line

logger = logging.getLogger(__name__)

KINDS = ("agents", "requesters", "statuses", "groups")
DEFAULT_STATUSES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}

Names = dict[int, str]


def parse(text: str, source: str = "<text>") -> Names:
    """``id:Name`` lines; blank lines and ``#`` comments are skipped, bad lines logged."""
    names: Names = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, name = line.partition(":")
        if not sep or not key.strip().isdigit() or not name.strip():
            logger.warning("%s:%d: not an id:Name line, skipped", source, number)
            continue
        names[int(key)] = name.strip()
    return names


def render(names: Names, header: str) -> str:
    """The file's text: one line per name, whatever the name holds (a line break cannot add a line)."""
    lines = [f"# {header}"] + [f"{key}:{clean}" for key, name in sorted(names.items()) if (clean := one_line(name))]
    return "\n".join(lines) + "\n"


def read_file(path: Path) -> Names:
    """A names file; empty (and a warning) when it cannot be read. A FIFO is never opened."""
    try:
        return parse(read_regular(path, MAX_STATUS_BYTES).decode("utf-8"), str(path))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("cannot read %s: %s", path, error)
        return {}


def write_discovered(folder: Path, kind: str, names: Names) -> bool:
    """Store what the API said about *kind*; False when nothing changed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}.txt"
    text = render(names, f"{kind} discovered by the watcher; edit config/{kind}.txt instead")
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write(path, text.encode("utf-8"))
    return True


def written(kind: str) -> str:
    """The key under which :func:`load` keeps what the person's file says alone: a name someone
    wrote is shown as written, never shortened."""
    return f"{kind}:written"


def load(discovered: Path, person: Path) -> dict[str, Names]:
    """Every kind's names: discovered ones, overridden by the person's files (also kept apart)."""
    result = {}
    for kind in KINDS:
        names = dict(DEFAULT_STATUSES) if kind == "statuses" else {}
        names.update(read_file(discovered / f"{kind}.txt"))
        chosen = read_file(person / f"{kind}.txt")
        names.update(chosen)
        result[kind] = names
        result[written(kind)] = chosen
    return result
