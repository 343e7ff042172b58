"""Secrets: values that never print themselves, and where the daemons find them.

A key comes from the environment, from systemd's credentials, or from a file
that only the service can read, in that order.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Mapping

API_KEY_ENV = "FRESHSERVICE_API_KEY"  # Freshservice's; each source names its own (KEY_ENVS)
KEY_ENVS = {"freshservice": API_KEY_ENV, "freshdesk": "FRESHDESK_API_KEY", "zendesk": "ZENDESK_API_TOKEN"}
CREDENTIAL = "freshservice-api-key"  # the name systemd hands the key over by, whatever the source


class Secret:
    """A string that does not print itself, so it cannot leak into logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def forms(self) -> tuple[str, ...]:
        """Every form the secret takes on the wire: itself, HTTP Basic's ``key:X``, and their base64."""
        raw = self._value
        if not raw:
            return ()
        basic = f"{raw}:X"
        encoded = [base64.b64encode(v.encode()).decode() for v in (basic, raw)]
        found = {raw, basic, *encoded, *(e.rstrip("=") for e in encoded)}
        return tuple(sorted(found, key=len, reverse=True))

    def mask(self, text: str) -> str:
        """*text* with every form of the secret replaced by ``***``."""
        for form in self.forms():
            text = text.replace(form, "***")
        return text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def credential(environ: Mapping[str, str]) -> str:
    """The key systemd handed over with LoadCredential=freshservice-api-key:... (if any)."""
    folder = environ.get("CREDENTIALS_DIRECTORY")
    return read_secret(Path(folder) / CREDENTIAL) if folder else ""


def read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def source_key(source: str, key_file: Path, environ: Mapping[str, str]) -> Secret | None:
    """The key of *source*: its environment variable, else systemd's credential, else *key_file*."""
    key = (environ.get(KEY_ENVS.get(source, API_KEY_ENV), "").strip() or credential(environ) or read_secret(key_file))
    return Secret(key) if key else None


def exposed(path: Path) -> str | None:
    """How to stop others reading a secret file that they can read now; None when they cannot."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o007:
        return None
    return f"others can read it (mode {mode:04o}): chmod o-rwx {path}"
