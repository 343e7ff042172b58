"""Where tickets come from. A source answers five questions; the sync engine does the rest.

To mirror another helpdesk product, write a class with these methods that
returns ticket objects shaped like Freshservice's (``id``, ``status``,
``type``, ``updated_at``, ``due_by``, ``fr_due_by``, ``stats`` ...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator, Protocol

from ticketdash import timefmt
from ticketdash.names import DEFAULT_STATUSES, Names
from watcher.client import FreshserviceClient, NotFound, Usage

# Any date before the account existed: always sending updated_since lifts the
# list endpoint's hidden "created in the last 30 days" restriction.
BEGINNING = "2000-01-01T00:00:00Z"


class Source(Protocol):
    name: str
    usage: Usage

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        """Every ticket updated since *since* (all of them for None), in every scope."""

    def agents(self) -> Names: ...

    def groups(self) -> Names: ...

    def statuses(self) -> Names: ...

    def requester(self, requester_id: int) -> str | None:
        """The name of one requester, None if the helpdesk does not know it."""

    def close(self) -> None: ...


def person_name(person: dict[str, Any]) -> str:
    name = " ".join(str(person.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    return name or str(person.get("email") or person.get("primary_email") or person.get("id"))


class FreshserviceSource:
    name = "freshservice"

    def __init__(self, client: FreshserviceClient, workspace_ids: list[int]) -> None:
        self.client = client
        # None: the account's primary workspace (no parameter); 0: all of them.
        self.scopes: list[int | None] = list(workspace_ids) or [None]

    @property
    def usage(self) -> Usage:
        return self.client.usage

    def close(self) -> None:
        self.client.close()

    def _scoped(self, params: dict[str, Any], scope: int | None) -> dict[str, Any]:
        return params if scope is None else {**params, "workspace_id": scope}

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        params = {"updated_since": timefmt.format(since) if since else BEGINNING, "include": "stats"}
        for scope in self.scopes:
            for page in self.client.pages("tickets", "tickets", self._scoped(params, scope)):
                yield from page

    def agents(self) -> Names:
        return {
            a["id"]: person_name(a)
            for page in self.client.pages("agents", "agents")
            for a in page
            if isinstance(a.get("id"), int)
        }

    def groups(self) -> Names:
        found: Names = {}
        for scope in self.scopes:
            params = self._scoped({}, scope if scope != 0 else None)
            for page in self.client.pages("groups", "groups", params):
                found.update({g["id"]: str(g.get("name")) for g in page if isinstance(g.get("id"), int)})
        return found

    def statuses(self) -> Names:
        found = dict(DEFAULT_STATUSES)
        for scope in self.scopes:
            body = self.client.get("ticket_form_fields", self._scoped({}, scope if scope != 0 else None))
            for fld in body.get("ticket_fields") or []:
                if isinstance(fld, dict) and fld.get("name") == "status":
                    for choice in fld.get("choices") or []:
                        if isinstance(choice, dict) and isinstance(choice.get("id"), int) and choice.get("value"):
                            found[choice["id"]] = str(choice["value"])
        return found

    def requester(self, requester_id: int) -> str | None:
        try:
            body = self.client.get(f"requesters/{requester_id}")
        except NotFound:
            return None
        person = body.get("requester")
        return person_name(person) if isinstance(person, dict) else None
