"""The coalescer: split pastes, albums and forward + question form one turn; short messages
never wait. Time is a fake clock whose sleepers wake only when the test advances it."""

from __future__ import annotations

import asyncio
import heapq
import itertools

import pytest

from bot.core.coalesce import Batch, CoalesceConfig, CoalesceKey, Coalescer, Part

KEY = CoalesceKey(chat_id=42, thread_id=None, user_id=42)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        await _settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = wake
            future.set_result(None)
            await _settle()
        self.now = target


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def text(message_id: int, body: str) -> Part[str]:
    return Part(message_id=message_id, kind="text", text=body)


def make(config: CoalesceConfig | None = None) -> tuple[Coalescer[str], FakeTime]:
    time = FakeTime()
    return Coalescer(config or CoalesceConfig(), time.clock, time.sleep), time


async def test_short_message_is_answered_at_once_without_sleeping() -> None:
    coalescer, time = make()
    turn = await coalescer.offer(KEY, text(1, "hello"))
    assert turn == Batch((text(1, "hello"),))
    assert time.slept == [] and coalescer.open_windows == 0


async def test_long_paste_4000_plus_500_is_one_turn_with_both_parts() -> None:
    coalescer, time = make()
    first, second = "a" * 4000, "b" * 500
    leader = asyncio.create_task(coalescer.offer(KEY, text(1, first)))
    await time.advance(0.4)  # the client sends the second part a moment later
    assert await coalescer.offer(KEY, text(2, second)) is None  # joined the leader's turn
    assert not leader.done()
    await time.advance(0.29)
    assert not leader.done()  # the settle time after the short tail is not over yet
    await time.advance(0.02)
    turn = await leader
    assert turn is not None
    assert [p.message_id for p in turn.parts] == [1, 2]
    assert turn.text == first + "\n" + second
    assert time.now == pytest.approx(0.71)


async def test_near_limit_message_alone_waits_one_gap() -> None:
    coalescer, time = make(CoalesceConfig(gap=1.0))
    leader = asyncio.create_task(coalescer.offer(KEY, text(1, "x" * 3600)))
    await time.advance(0.99)
    assert not leader.done()
    await time.advance(0.02)
    assert (await leader) == Batch((text(1, "x" * 3600),))


async def test_the_window_is_bounded_by_max_wait() -> None:
    coalescer, time = make(CoalesceConfig(gap=1.0, max_wait=2.5))
    leader = asyncio.create_task(coalescer.offer(KEY, text(1, "x" * 4096)))
    for index in range(2, 10):  # a part every 0.5 s keeps the gap from closing the window
        await time.advance(0.5)
        if leader.done():
            break
        assert await coalescer.offer(KEY, text(index, "y" * 4096)) is None
    turn = await leader
    assert turn is not None and time.now == pytest.approx(2.5)
    assert [p.message_id for p in turn.parts] == [1, 2, 3, 4, 5]


async def test_album_without_caption_is_one_turn() -> None:
    coalescer, time = make()
    items = [
        Part(message_id=i, kind="media", media_group_id="g1", payload=f"photo{i}")
        for i in (5, 6, 7)
    ]
    leader = asyncio.create_task(coalescer.offer(KEY, items[0]))
    await _settle()
    assert await coalescer.offer(KEY, items[1]) is None
    assert await coalescer.offer(KEY, items[2]) is None
    await time.advance(1.01)
    turn = await leader
    assert turn is not None and [p.payload for p in turn.parts] == ["photo5", "photo6", "photo7"]


async def test_forward_and_question_form_one_turn() -> None:
    coalescer, time = make()
    forward = Part(message_id=10, kind="forward", text="[Forwarded from the user Anna]\nthe quote")
    leader = asyncio.create_task(coalescer.offer(KEY, forward))
    await time.advance(0.6)
    assert await coalescer.offer(KEY, text(11, "what does she mean?")) is None
    await time.advance(0.31)
    turn = await leader
    assert turn is not None
    assert turn.text == "[Forwarded from the user Anna]\nthe quote\nwhat does she mean?"


async def test_other_users_and_topics_are_not_joined() -> None:
    coalescer, time = make()
    leader = asyncio.create_task(coalescer.offer(KEY, text(1, "x" * 4000)))
    await _settle()
    other_user = CoalesceKey(42, None, 7)
    other_topic = CoalesceKey(42, 3, 42)
    assert await coalescer.offer(other_user, text(2, "hi")) == Batch((text(2, "hi"),))
    assert await coalescer.offer(other_topic, text(3, "hi")) == Batch((text(3, "hi"),))
    await time.advance(1.01)
    assert (await leader) == Batch((text(1, "x" * 4000),))


async def test_a_redelivered_part_is_not_counted_twice() -> None:
    coalescer, time = make()
    leader = asyncio.create_task(coalescer.offer(KEY, text(1, "x" * 4000)))
    await _settle()
    assert await coalescer.offer(KEY, text(2, "tail")) is None
    assert await coalescer.offer(KEY, text(2, "tail")) is None
    await time.advance(1.0)
    turn = await leader
    assert turn is not None and [p.message_id for p in turn.parts] == [1, 2]


async def test_disabled_coalescer_never_waits() -> None:
    coalescer, time = make(CoalesceConfig(enabled=False))
    assert await coalescer.offer(KEY, text(1, "x" * 4096)) == Batch((text(1, "x" * 4096),))
    assert time.slept == []


async def test_a_cancelled_leader_closes_its_window() -> None:
    coalescer, _ = make()
    leader = asyncio.create_task(coalescer.offer(KEY, text(1, "x" * 4000)))
    await _settle()
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert coalescer.open_windows == 0
    assert await coalescer.offer(KEY, text(2, "hi")) == Batch((text(2, "hi"),))
