"""The cadence of the bot's messages (one object, built from settings) and the per-chat pacers
that hold every Bot API call to it, so streaming stays inside Telegram's flood limits."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from bot.config import Settings

# Telegram's limit on all the messages of a bot: about 30 in any one second, as Telegram counts
# them (when a call reaches it, which the bot does not see).
BOT_WINDOW = (30, 1.0)
# How often a pacer whose window is full of calls still in flight looks again.
IN_FLIGHT_POLL = 0.02


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket: one call per `interval` seconds on average, `burst` calls at once."""

    interval: float
    burst: int = 1


@dataclass(frozen=True, slots=True)
class Cadence:
    """Every pace of an answer on screen: a change of cadence is a change here or in settings
    (the paces, keep-alive and typing interval come from there, with their defaults)."""

    draft: Rate  # drafts and chat actions of one chat (they share a limit)
    private_edit: Rate  # messages and edits of one private chat
    group_edit: Rate  # ...of one group
    draft_keepalive: float  # an idle draft is shown again (Telegram drops it after ~30 s)
    typing_every: float  # the typing action, while nothing else shows
    # Edits of one inline message (by inline_message_id): paced like a group's (Cadence.of).
    inline_edit: Rate = Rate(3.0, 1)
    # Telegram allows a bot about 30 messages a second over all chats: stay below, with burst +
    # rate under 30 in any one second.
    bot: Rate = Rate(1 / 24, 3)
    # The first typing action after the "Thinking…" draft waits until that draft's slot is back.
    first_typing_in_drafts: float = 2.0
    # The final message's urgency: streamed updates leave this many slots free, so the first
    # visible text and the final answer never wait behind them.
    reserve: int = 1

    @classmethod
    def of(cls, settings: Settings) -> Cadence:
        return cls(
            draft=Rate(settings.draft_interval, settings.draft_burst),
            private_edit=Rate(settings.private_edit_interval, settings.private_edit_burst),
            group_edit=Rate(settings.group_edit_interval, 1),
            inline_edit=Rate(settings.group_edit_interval, 1),
            draft_keepalive=settings.draft_keepalive,
            typing_every=settings.typing_interval,
        )


class Pacer:
    """Paces calls of one kind in one chat; a 429's retry_after blocks it for that long."""

    __slots__ = ("_blocked_until", "_rate", "_tokens", "_updated")

    def __init__(self, rate: Rate) -> None:
        self._rate = rate
        self._tokens = float(rate.burst)
        self._updated = time.monotonic()
        self._blocked_until = 0.0

    def _refill(self, now: float) -> None:
        gained = (now - self._updated) / self._rate.interval
        self._tokens = min(float(self._rate.burst), self._tokens + gained)
        self._updated = now

    def ready_in(self, reserve: int = 0) -> float:
        """Seconds until a slot is free while `reserve` more stay free for urgent calls."""
        now = time.monotonic()
        self._refill(now)
        need = min(1 + reserve, self._rate.burst)
        wait_tokens = max(0.0, (need - self._tokens) * self._rate.interval)
        return max(wait_tokens, self._blocked_until - now, 0.0)

    def take(self) -> None:
        self._refill(time.monotonic())
        self._tokens -= 1

    async def acquire(self) -> None:
        """Wait for a free slot and take it (check and take happen without a suspension)."""
        await wait_ready((self,))
        self.take()

    def done(self) -> None:
        """A call that took a slot has ended (answered, failed or cancelled)."""

    def defer(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)
        self._tokens = min(self._tokens, 0.0)

    @property
    def idle(self) -> bool:
        return self.ready_in() == 0 and self._tokens >= self._rate.burst


class WindowPacer(Pacer):
    """A token bucket that also keeps, in any `period`, at most `limit` calls that may reach
    Telegram within it.

    Telegram counts a call when it arrives, somewhere between the moment the bot takes its slot
    and the moment the answer is back; a bucket that counts only the taking lets calls delayed
    on the way (a busy event loop, a slow network) arrive together with later ones. A call
    counts here from its taking until `period` after its end, so that whatever the delays, no
    `period`-long window at Telegram sees more than `limit` of them.
    """

    __slots__ = ("_ended", "_in_flight", "_limit", "_period")

    def __init__(self, rate: Rate, limit: int, period: float) -> None:
        super().__init__(rate)
        self._limit = limit
        self._period = period
        self._in_flight = 0
        self._ended: deque[float] = deque()

    def ready_in(self, reserve: int = 0) -> float:
        now = time.monotonic()
        while self._ended and self._ended[0] <= now - self._period:
            self._ended.popleft()
        over = self._in_flight + len(self._ended) + min(1 + reserve, self._limit) - self._limit
        if over <= 0:
            window = 0.0
        elif over <= len(self._ended):
            window = self._ended[over - 1] + self._period - now
        else:
            window = IN_FLIGHT_POLL
        return max(super().ready_in(reserve), window)

    def take(self) -> None:
        super().take()
        self._in_flight += 1

    def done(self) -> None:
        self._in_flight -= 1
        self._ended.append(time.monotonic())


async def wait_ready(pacers: tuple[Pacer, ...], reserve: int = 0) -> None:
    """Sleep until every pacer has a free slot (without taking it)."""
    # Other replies may take slots, or a 429 push the time back, while we sleep: check again.
    while (delay := max(p.ready_in(reserve) for p in pacers)) > 0:  # noqa: ASYNC110
        await asyncio.sleep(delay)


def try_take(pacers: tuple[Pacer, ...], reserve: int = 0) -> bool:
    """Take a slot of every pacer if all have one free (keeping `reserve` free), else nothing."""
    if any(p.ready_in(reserve) > 0 for p in pacers):
        return False
    for pacer in pacers:
        pacer.take()
    return True


class Pacers:
    """One pacer per (chat, kind), shared by every reply in that chat."""

    def __init__(self, cadence: Cadence, max_entries: int = 10_000) -> None:
        self.cadence = cadence
        self._rates = {
            "draft": cadence.draft,
            "private": cadence.private_edit,
            "group": cadence.group_edit,
            "inline": cadence.inline_edit,
        }
        self._pacers: dict[tuple[int | str, str], Pacer] = {}
        self._max_entries = max_entries
        self.bot = WindowPacer(cadence.bot, *BOT_WINDOW)  # all messages of the bot, over every chat

    def of_chat(self, chat_id: int, *, draft: bool) -> tuple[Pacer, ...]:
        """Drafts and chat actions share one pace; messages have the chat's and the bot's."""
        if draft:
            return (self.get(chat_id, "draft"),)
        kind = "private" if chat_id > 0 else "group"
        return (self.get(chat_id, kind), self.bot)

    def of_inline(self, inline_message_id: str) -> tuple[Pacer, ...]:
        """An inline message's edits: its own pace, and the bot's."""
        return (self.get(inline_message_id, "inline"), self.bot)

    def get(self, chat_id: int | str, kind: str) -> Pacer:
        key = (chat_id, kind)
        pacer = self._pacers.get(key)
        if pacer is None:
            if len(self._pacers) >= self._max_entries:
                self._prune()
            pacer = self._pacers[key] = Pacer(self._rates[kind])
        return pacer

    def _prune(self) -> None:
        """Forget idle pacers (a fresh one is the same); if that is not enough, the oldest half
        (a chat busy since more than `max_entries` others came keeps the bot-wide pace)."""
        self._pacers = {k: p for k, p in self._pacers.items() if not p.idle}
        if len(self._pacers) >= self._max_entries:
            kept = list(self._pacers.items())[len(self._pacers) - self._max_entries // 2 :]
            self._pacers = dict(kept)
