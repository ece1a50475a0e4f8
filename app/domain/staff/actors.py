"""Who did something, as the audit log names it: an account, its display name, a key, and the face used.

An ``Actor`` is a ``str`` (its short label: ``account:12``, ``staff:7``, ``scheduler``, ``applicant``) so it
travels wherever services already pass an actor label (a claim's ``decided_by``), and it carries the
structured names the audit log records: ``{account_id, display_name, key_id, via}``.
"""

from __future__ import annotations

from enum import StrEnum


class Via(StrEnum):
    """The face an action came through."""

    WEB = "web"
    API = "api"
    SCHEDULER = "scheduler"
    #: The machine's console (``fairslot admin``, ``fairslot demo``, ``fairslot claims import``).
    CLI = "cli"


class Actor(str):
    """An actor label with its structured names (``account_id``, ``display_name``, ``key_id``, ``via``)."""

    account_id: int | None
    display_name: str
    key_id: int | None
    via: Via | None

    def __new__(
        cls,
        label: str,
        *,
        account_id: int | None = None,
        display_name: str = "",
        key_id: int | None = None,
        via: Via | None = None,
    ) -> Actor:
        actor = super().__new__(cls, label)
        actor.account_id = account_id
        actor.display_name = display_name or label
        actor.key_id = key_id
        actor.via = via
        return actor

    def described(self, via: Via | None) -> dict[str, object]:
        """The audit log's actor object, with ``via`` filled in when this actor does not know its face."""
        return {
            "account_id": self.account_id,
            "display_name": self.display_name,
            "key_id": self.key_id,
            "via": (self.via or via or Via.SCHEDULER).value,
        }


def of_label(label: str) -> Actor:
    """The actor behind a plain label (``staff:7`` names key 7; anything else is a name)."""
    if isinstance(label, Actor):
        return label
    prefix, _, number = label.partition(":")
    key_id = int(number) if prefix in ("staff", "staff_key") and number.isdigit() else None
    return Actor(label, key_id=key_id, via=Via.CLI if label == "cli" else None)
