"""The state vocabulary: names, order, words and symbols, in one leaf module.

Config checks route and reminder states against it, the rules rank with it,
the page gets its words through the board JSON and the alerts write them, so
the wall and a chat message never call one state by two names.
"""

from __future__ import annotations

# Ticket states, most severe first (the contract's order).
TICKET_STATES = ("fr_overdue", "overdue", "critical", "warning", "attention", "ok", "paused")
# Board states: the data's health first, then the ticket states that can be worst, then all clear.
BOARD_STATES = ("error", "stale", "fr_overdue", "overdue", "critical", "warning", "attention", "clear")
ALERT_STATES = (*TICKET_STATES[:5], "stale", "error")  # what an alert route can send on
BREACHED = frozenset({"fr_overdue", "overdue"})

SEVERITY = {state: rank for rank, state in enumerate(BOARD_STATES)}
SEVERITY_OF_TICKET = {state: rank for rank, state in enumerate(TICKET_STATES)}

WORDS = {
    "fr_overdue": "First response overdue", "overdue": "Overdue", "critical": "Critical", "warning": "Warning",
    "attention": "Needs attention", "ok": "On track", "paused": "Paused", "error": "Error", "stale": "Stale",
    "clear": "All clear",
}
SHORT_WORDS = {**WORDS, "fr_overdue": "FR overdue", "attention": "Attention", "ok": "OK"}  # for narrow cells
SYMBOLS = {
    "fr_overdue": "\u203c", "overdue": "!", "critical": "\u25b2", "warning": "\u25c6", "attention": "\u25cf",
    "ok": "\u2713", "paused": "\u275a\u275a", "error": "\u2716", "stale": "\u231b", "clear": "\u2713",
}


def vocabulary() -> dict[str, dict[str, str]]:
    """What the page needs to name every state, sent with the board."""
    return {state: {"word": WORDS[state], "short": SHORT_WORDS[state], "icon": SYMBOLS[state]} for state in WORDS}
