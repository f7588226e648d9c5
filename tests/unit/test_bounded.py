"""In-process memory per chat is bounded: a bot seen by a million chats does not keep a million
entries of each."""

from __future__ import annotations

from bot.adapters.memory_signals import LocalSignals
from bot.core.bounded import Recent
from bot.core.model_choice import ModelResolver
from bot.telegram.notices import NoticeOptions, Notices


def test_recent_forgets_the_oldest() -> None:
    recent: Recent[int, str] = Recent(3)
    for key in range(5):
        recent[key] = str(key)
    assert len(recent) == 3 and 0 not in recent and recent.get(4) == "4"
    recent[2] = "again"  # the newest now
    recent[5] = "5"
    assert 2 in recent and 3 not in recent


async def test_continuable_answers_are_bounded() -> None:
    signals = LocalSignals(remember=1_000)
    for chat_id in range(3_000):
        await signals.set_continuable(chat_id, f"g{chat_id}")
    assert not await signals.take_continuable(0, "g0")  # the oldest was forgotten
    assert await signals.take_continuable(2_999, "g2999")
    assert not await signals.take_continuable(2_999, "g2999")  # once


def test_fallback_notices_are_bounded() -> None:
    resolver = ModelResolver(None, None, "m")  # type: ignore[arg-type]
    for chat_id in range(30_000):
        resolver._told.add((chat_id, "gone"))
    assert len(resolver._told) <= 10_000


def test_chats_without_drafts_are_bounded() -> None:
    options = NoticeOptions(use_drafts=True, show_reasoning=False, message_limit=4096)
    notices = Notices(None, None, options)  # type: ignore[arg-type]
    for chat_id in range(30_000):
        notices._no_drafts.add(chat_id)
    assert len(notices._no_drafts) <= 10_000
