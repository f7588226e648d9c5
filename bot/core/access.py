"""The gate before every turn: access lists, flood control and token quotas."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from bot.core.models import AccessRecord, UsageTotals
from bot.core.ports import AccessStore, UsageStore
from bot.core.quota import Attempt, AttemptResult, QuotaLimits, next_day, next_month

AccessMode = Literal["open", "allowlist"]
# The words every permission check uses (Gate.may), from the narrowest:
# - bot_admin: one of ADMIN_IDS (/stats, access, quotas, the default model; refunds).
# - group_admin: a bot admin, or in a group one of its admins (/tools; modes). Regenerating
#   another's answer: the asker (turn.user_id) or group_admin.
# - manage_chat: group_admin, or anyone in their own private chat (/reset, /system, /context).
# - pick_model: manage_chat, but in a private chat only when USERS_PICK_MODELS (/model).
Right = Literal["bot_admin", "group_admin", "manage_chat", "pick_model"]


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    admins: frozenset[int]
    mode: AccessMode = "open"
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    daily_quota: int = 0  # tokens; 0 = no quota
    monthly_quota: int = 0
    flood_messages: int = 0  # messages per window; 0 = no flood control
    flood_window: float = 10.0
    users_pick_models: bool = True  # ordinary users may choose the model of their private chat


@dataclass(frozen=True, slots=True)
class Denial:
    """Why a turn is refused: a text key and the values for its text."""

    text_key: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer: a refusal (and whether to tell it now), or the quotas the turn is to
    hold tokens against."""

    denial: Denial | None
    tell: bool = True
    limits: QuotaLimits | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    period: Literal["day", "month"]
    limit: int
    used: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


class Gate:
    """Decides whether a user may start a turn; a refusal always comes with words, never silence."""

    def __init__(
        self,
        policy: AccessPolicy,
        store: AccessStore,
        usage: UsageStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._policy = policy
        self._store = store
        self._usage = usage
        self._clock = clock
        self._wall = wall

    def is_admin(self, user_id: int) -> bool:
        return user_id in self._policy.admins

    def may(self, right: Right, user_id: int, private: bool, group_admin: bool = False) -> bool:
        """Whether the user holds `right` in a chat (`group_admin`: they administer the group,
        as Telegram says; never asked in a private chat). Bot admins hold every right."""
        if self.is_admin(user_id):
            return True
        if right == "bot_admin":
            return False
        if private:
            return right == "manage_chat" or (right == "pick_model" and self._pick_models)
        return group_admin

    @property
    def _pick_models(self) -> bool:
        return self._policy.users_pick_models

    async def may_be_heard(self, user_id: int, chat_id: int) -> bool:
        """Whether a group message not addressed to the bot may be kept as context: the user and
        the group have access (no flood or quota count: nothing goes upstream)."""
        if self.is_admin(user_id):
            return True
        record = await self._store.record(user_id, chat_id)
        return self._access(record, user_id, chat_id, private=False) is None

    async def admit(
        self, actor_id: int, chat_id: int, private: bool, unsupported: str = ""
    ) -> Verdict:
        """Decide a turn (or, with `unsupported`, the refusal of content the bot cannot read).

        `actor_id` is who speaks: the user, or the channel or group posting under its own name.
        Every attempt counts for flood control before anything is decided, and a refusal is
        to be told at most once per flood window per chat. Two round trips: the admins'
        decisions, then flood, quota and refusal on the actor's slot.
        """
        if self.is_admin(actor_id):
            return Verdict(Denial(unsupported) if unsupported else None)
        record = await self._store.record(actor_id, chat_id)
        access = self._access(record, actor_id, chat_id, private)
        limits = None if access or unsupported else self._limits(record)
        refusal = access.text_key if access else unsupported
        now = self._wall()
        attempt = Attempt(
            actor_id, chat_id, self._clock(), now, self._policy.flood_window,
            self._policy.flood_messages, limits, refusal,
        )  # fmt: skip
        result = await self._store.attempt(attempt)
        if not result.refusal:
            return Verdict(None, limits=limits)
        if access is not None and result.refusal == access.text_key:
            return Verdict(access, result.tell)
        return Verdict(self._denial(result, attempt), result.tell)

    def _denial(self, result: AttemptResult, attempt: Attempt) -> Denial:
        if result.refusal == "slow_down":
            seconds = max(1, round(attempt.window - (attempt.now - result.oldest)))
            return Denial("slow_down", {"seconds": seconds})
        limits = attempt.limits
        if limits is not None and result.refusal in ("quota_day", "quota_month"):
            day = result.refusal == "quota_day"
            resets = next_day(attempt.at) if day else next_month(attempt.at)
            return Denial(
                result.refusal,
                {
                    "limit": limits.daily if day else limits.monthly,
                    "reset": f"{resets:%Y-%m-%d %H:%M} UTC",
                },
            )
        return Denial(result.refusal)

    def _limits(self, record: AccessRecord) -> QuotaLimits | None:
        daily = record.daily_quota if record.daily_quota is not None else self._policy.daily_quota
        monthly = (
            record.monthly_quota if record.monthly_quota is not None else self._policy.monthly_quota
        )
        return QuotaLimits(daily, monthly) if daily > 0 or monthly > 0 else None

    async def quotas(self, user_id: int) -> list[Quota]:
        """The quotas that apply to the user with what is left of them (none for admins)."""
        if self.is_admin(user_id):
            return []
        return await self._quotas(user_id, await self._store.record(user_id, 0))

    async def _quotas(self, user_id: int, record: AccessRecord) -> list[Quota]:
        limits = self._limits(record)
        if limits is None:
            return []
        now = self._clock()
        totals: UsageTotals = await self._usage.totals(user_id, now)
        quotas = []
        # Tokens paid with Stars do not use up the free quotas.
        day, month = (totals.today.total_tokens - totals.paid_today,
                      totals.month.total_tokens - totals.paid_month)  # fmt: skip
        if limits.daily > 0:
            quotas.append(Quota("day", limits.daily, day, next_day(now)))
        if limits.monthly > 0:
            quotas.append(Quota("month", limits.monthly, month, next_month(now)))
        return quotas

    def _access(
        self, record: AccessRecord, user_id: int, chat_id: int, private: bool
    ) -> Denial | None:
        if record.user == "block":
            return Denial("access_blocked")
        if not private and record.chat == "block":
            return Denial("access_chat_blocked")
        if self._policy.mode == "open":
            return None
        if record.user == "allow" or user_id in self._policy.allowed_users:
            return None
        if not private and (record.chat == "allow" or chat_id in self._policy.allowed_chats):
            return None
        return Denial("access_denied", {"user_id": user_id})

    async def allow(self, kind: Literal["user", "chat"], owner_id: int) -> None:
        await self._set(kind, owner_id, "allow")

    async def block(self, kind: Literal["user", "chat"], owner_id: int) -> None:
        await self._set(kind, owner_id, "block")

    async def unblock(self, kind: Literal["user", "chat"], owner_id: int) -> None:
        await self._set(kind, owner_id, None)

    async def _set(
        self, kind: Literal["user", "chat"], owner_id: int, state: Literal["allow", "block"] | None
    ) -> None:
        if kind == "user":
            await self._store.set_user(owner_id, state)
        else:
            await self._store.set_chat(owner_id, state)

    async def set_quota(self, user_id: int, daily: int | None, monthly: int | None) -> None:
        """Override a user's quotas (None: back to the default; 0: no quota)."""
        await self._store.set_quota(user_id, daily, monthly)
