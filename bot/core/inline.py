"""Inline mode's rules: what a typed query becomes, and the pending question a choice starts.

Nothing here calls the model: a query only becomes a pending question, stored by its result id
until the user picks it (`InlinePending`). A choice is claimed once (`claim`), so one choice
makes one upstream request whichever way it starts (chosen_inline_result or the button).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.core.quota import QuotaLimits

QUERY_LIMIT = 256  # Telegram's inline query text is at most 256 characters
PENDING_TTL = 900  # a question waits this long for its choice (and a 🔄 for its answer)
FULL_TTL = 86400  # the full text of a long answer waits this long for the private chat
SENDING_TTL = 120  # a delivery of a full text to the private chat takes at most this long

QueryCheck = Literal["empty", "too_long", "ok"]


def check_query(text: str, limit: int = QUERY_LIMIT) -> QueryCheck:
    """What a typed query is: empty (show the hint), over the limit, or a question."""
    stripped = text.strip()
    if not stripped:
        return "empty"
    return "too_long" if len(stripped) > limit else "ok"


def new_result_id() -> str:
    """A result id: unguessable (it names the question in button data), 22 characters."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class PendingQuestion:
    """A question typed inline, waiting for its choice: who asked, what, the quota it holds."""

    user_id: int
    question: str
    lang: str
    quota: QuotaLimits | None

    def dumps(self) -> str:
        quota = None if self.quota is None else [self.quota.daily, self.quota.monthly]
        return json.dumps([self.user_id, self.question, self.lang, quota])

    @classmethod
    def loads(cls, raw: str) -> PendingQuestion:
        user_id, question, lang, quota = json.loads(raw)
        limits = None if quota is None else QuotaLimits(int(quota[0]), int(quota[1]))
        return cls(int(user_id), str(question), str(lang), limits)


class InlinePending(Protocol):
    """Pending questions by result id, shared by every replica and kept over a restart."""

    async def put(self, result_id: str, pending: PendingQuestion) -> None:
        """Keep `pending` for PENDING_TTL seconds."""

    async def get(self, result_id: str) -> PendingQuestion | None:
        """The pending question, or None when unknown or expired."""

    async def claim(self, result_id: str, attempt: int) -> bool:
        """True once per (result, attempt): the caller runs that answer, nobody else does."""

    async def put_full(self, result_id: str, text: str) -> None:
        """Keep a long answer's full text for FULL_TTL seconds (the private chat shows it)."""

    async def get_full(self, result_id: str) -> str | None:
        """A long answer's full text, or None when unknown or expired."""

    async def begin_full(self, result_id: str) -> bool:
        """True when no delivery of the full text to the private chat is under way; it is
        then the caller's (for SENDING_TTL seconds at most, or until `end_full`)."""

    async def end_full(self, result_id: str) -> None:
        """The caller's delivery of the full text ended (sent or refused)."""
