"""In-process memory per chat is bounded: a bot seen by a million chats does not keep a million
entries of each."""

from __future__ import annotations

from types import SimpleNamespace

from aiogram import Dispatcher
from aiogram.fsm.storage.base import StorageKey

from bot.adapters.memory_signals import LocalSignals
from bot.config import Settings
from bot.core.bounded import Recent
from bot.core.budget import TokenCalibration
from bot.core.inputs import BurstLimiter
from bot.core.model_choice import ModelResolver
from bot.core.usage_chart import PictureCache
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.inline_queries import InlineQueries
from bot.telegram.notices import NoticeOptions, Notices
from bot.telegram.pacing import Cadence, Pacers
from bot.telegram.runtime.chat_order import ChatLocks
from bot.telegram.runtime.fsm_storage import BoundedStorage


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
    for chat_id in range(100_000):
        resolver._told.add((chat_id, "gone"))
    assert len(resolver._told) <= 10_000


def test_chats_without_drafts_are_bounded() -> None:
    options = NoticeOptions(use_drafts=True, show_reasoning=False, message_limit=4096)
    notices = Notices(None, None, options)  # type: ignore[arg-type]
    for chat_id in range(100_000):
        notices._no_drafts.add(chat_id)
    assert len(notices._no_drafts) <= 10_000


# -- every per-chat structure of the process, flooded with 100,000 distinct keys (issue 19) ----

FLOOD = 100_000


def test_recent_stays_under_its_cap_when_flooded() -> None:
    recent: Recent[int, None] = Recent(10_000)
    for key in range(FLOOD):
        recent.add(key)
    assert len(recent) == 10_000


async def test_update_ids_seen_are_bounded() -> None:
    locks = ChatLocks(remember=10_000)
    for update_id in range(FLOOD):
        assert await locks.admit(update_id, update_id)
    assert len(locks._seen) <= 10_000


async def test_chat_locks_are_dropped_when_the_chat_is_done() -> None:
    locks = ChatLocks()

    async def nothing() -> None:
        return None

    for chat_id in range(FLOOD):
        await locks.run(chat_id, chat_id, nothing)
    assert not locks._locks and not locks._users and locks.busy_chats() == 0


def test_pacers_are_bounded_even_when_none_is_idle() -> None:
    pacers = Pacers(Cadence.of(Settings(bot_token="1:x", gonka_api_key="k")), max_entries=10_000)
    for chat_id in range(FLOOD):
        pacers.of_chat(chat_id, draft=True)[0].take()  # each busy: no slot left for a while
        assert len(pacers._pacers) <= 10_000


async def test_chat_admin_answers_are_bounded() -> None:
    admins = ChatAdmins(_Members(), max_entries=10_000)  # type: ignore[arg-type]
    for user_id in range(FLOOD):
        await admins.is_admin(-1, user_id)
        assert len(admins._known) <= 10_000


def test_burst_windows_are_bounded() -> None:
    limiter = BurstLimiter(window=60.0, clock=lambda: 0.0, remember=10_000)
    for chat_id in range(FLOOD):
        assert limiter.allow(chat_id)
        assert len(limiter._last) <= 10_000 + 1


def test_token_ratios_are_bounded() -> None:
    calibration = TokenCalibration(size=10_000)
    for chat_id in range(FLOOD):
        calibration.observe("m", chat_id, 100, 120)
    assert len(calibration._ratios) == 10_000


def test_inline_verdicts_are_bounded() -> None:
    queries = InlineQueries(None, None, None)  # type: ignore[arg-type]
    for user_id in range(FLOOD):
        queries._verdicts[user_id] = (0.0, None)  # type: ignore[assignment]
    assert len(queries._verdicts) <= 10_000


async def test_continuable_answers_stay_under_the_cap_when_flooded() -> None:
    signals = LocalSignals(remember=10_000)
    for chat_id in range(FLOOD):
        await signals.set_continuable(chat_id, f"g{chat_id}")
    assert len(signals._continuable) == 10_000


def test_usage_pictures_are_bounded() -> None:
    cache = PictureCache(clock=lambda: 0.0, ttl=60.0, size=1_000)
    for user_id in range(FLOOD):
        cache.put(("usage", user_id), b"png")
        assert len(cache._kept) <= 1_000
    assert cache.get(("usage", FLOOD - 1)) == b"png" and cache.get(("usage", 0)) is None


async def test_fsm_storage_keeps_nothing_for_chats_without_state() -> None:
    # aiogram's default MemoryStorage added a record per (chat, user) at every update's look-up.
    storage = BoundedStorage(size=10_000)
    for chat_id in range(FLOOD):
        key = StorageKey(bot_id=1, chat_id=chat_id, user_id=chat_id)
        assert await storage.get_state(key) is None and await storage.get_data(key) == {}
    assert storage.records == 0
    for chat_id in range(FLOOD):
        key = StorageKey(bot_id=1, chat_id=chat_id, user_id=chat_id)
        await storage.set_state(key, "asking")
        await storage.set_data(key, {"n": chat_id})
    assert storage.records == 2 * 10_000
    last = StorageKey(bot_id=1, chat_id=FLOOD - 1, user_id=FLOOD - 1)
    assert await storage.get_state(last) == "asking" and await storage.get_data(last) == {
        "n": FLOOD - 1
    }


async def test_the_dispatcher_keeps_no_fsm_record_per_chat() -> None:
    # The state look-up of each update goes to the bot's storage, which stays empty.
    dispatcher = Dispatcher(storage=BoundedStorage())
    assert isinstance(dispatcher.fsm.storage, BoundedStorage)


class _Members:
    async def get_chat_member(self, chat_id: int, user_id: int) -> SimpleNamespace:
        return SimpleNamespace(status="member")
