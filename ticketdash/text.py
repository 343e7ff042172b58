"""Customer-written text made safe to keep on one line: for names files, alerts and anything line-based.

A requester chooses their own name and a customer their subject: a line
break (any of the ones ``str.splitlines`` knows, ``\\u2028`` and ``\\x85``
included) would add a line to a names file or fake one in a message, and a
bidirectional override would reverse what a reader sees. Both go; so do the
other control and invisible characters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
OVERRIDES = re.compile(r"[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides, isolates


def without_overrides(text: str) -> str:
    """*text* without bidirectional embeddings, overrides and isolates, which would reverse what a reader
    sees around them (a subject's "\u202e" in a tooltip); right-to-left script itself is kept."""
    return OVERRIDES.sub("", text)


def one_line(text: Any) -> str:
    """*text* without control, bidi-override or invisible characters, its whitespace collapsed; "" for
    anything that is not a string."""
    if not isinstance(text, str):
        return ""
    text = INVISIBLE.sub("", text)
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(text.split())
