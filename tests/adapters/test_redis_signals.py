"""Stop requests between replicas: one poller per process watches every answer it streams."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_signals import RedisReplicaSignals, draft_name
from bot.core.stop import Streaming


def _streams(generation_id: str, user_id: int = 7) -> Streaming:
    return Streaming(generation_id, user_id, user_id)


class _CountingRedis:
    """The client, counting round trips made through pipelines."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.pipelines = 0

    def pipeline(self, **kwargs: Any) -> Any:
        self.pipelines += 1
        return self._redis.pipeline(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._redis, name)


async def test_one_poll_a_period_serves_every_watched_answer(redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix)
    counting = _CountingRedis(redis)
    here = RedisReplicaSignals(counting, keys, every=0.05)  # type: ignore[arg-type]
    other = RedisReplicaSignals(redis, keys)  # the replica the button press reached
    stops = [asyncio.Event() for _ in range(3)]
    watchers = [
        asyncio.create_task(here.watch(100 + i, _streams(f"gen{i}"), stops[i], 500 + i))
        for i in range(3)
    ]
    begun = time.monotonic()
    await asyncio.sleep(0.3)  # a few polls with nothing asked
    assert not await other.request(100, "gen0", 8)  # someone else's press is refused
    assert not await other.request(100, "forged", 7)  # so is a press naming no running answer
    assert await other.request(101, "gen1", 7)  # the author's Stop button
    assert await other.request(102, draft_name(502), 7)  # Telegram's native stop of the draft
    async with asyncio.timeout(2):
        await stops[1].wait()
        await stops[2].wait()
    polls = (time.monotonic() - begun) / 0.05
    assert not stops[0].is_set()
    # One mark of each answer as it starts, then not one round trip per watched answer a poll.
    assert counting.pipelines <= len(watchers) + polls + 2
    finished, _ = await asyncio.wait(watchers[1:], timeout=1)
    assert len(finished) == 2  # a stopped answer's watch ends
    watchers[0].cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    await here.close()


async def test_an_ended_answer_can_no_longer_be_asked_to_stop(
    redis: Redis, key_prefix: str
) -> None:
    signals = RedisReplicaSignals(redis, RedisKeys(key_prefix), every=0.05)
    stop = asyncio.Event()
    watch = asyncio.create_task(signals.watch(100, _streams("gen"), stop, 501))
    await asyncio.sleep(0.05)
    assert await signals.request(100, "gen", 7)
    async with asyncio.timeout(2):
        await watch
    assert not await signals.request(100, "gen", 7)
    assert not await signals.request(100, draft_name(501), 7)
    await signals.close()


class _CancelSwallowingRedis(_CountingRedis):
    """redis-py 8.1 on Python 3.11 at times loses a cancel that arrives during a command (681 of
    3,000 cancels in a probe): the command completes and the task goes on."""

    def __init__(self, redis: Redis) -> None:
        super().__init__(redis)
        self.entered = asyncio.Event()

    def pipeline(self, **kwargs: Any) -> Any:
        return _CancelSwallowingPipeline(super().pipeline(**kwargs), self.entered)


class _CancelSwallowingPipeline:
    def __init__(self, pipe: Any, entered: asyncio.Event) -> None:
        self._pipe = pipe
        self._entered = entered

    async def __aenter__(self) -> _CancelSwallowingPipeline:
        await self._pipe.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> Any:
        return await self._pipe.__aexit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)

    async def execute(self) -> Any:
        self._entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
        return await self._pipe.execute()


async def test_a_watch_ends_when_cancelled_though_the_client_loses_the_cancel(
    redis: Redis, key_prefix: str
) -> None:
    """The answer ends by cancelling its watch: a lost cancel kept the answer (and the update)
    running until the shutdown's grace was over."""
    client = _CancelSwallowingRedis(redis)
    signals = RedisReplicaSignals(client, RedisKeys(key_prefix))  # type: ignore[arg-type]
    watcher = asyncio.create_task(signals.watch(1, _streams("g1"), asyncio.Event(), 3))
    await client.entered.wait()  # marking the answer's author and the chat's streaming answer
    watcher.cancel()
    await asyncio.wait({watcher}, timeout=2)
    assert watcher.cancelled()
    author = RedisKeys(key_prefix).answer_author(1, "g1")
    assert await redis.get(author) is None  # marked, then cleared: the answer is over
    assert await signals.streaming(1) is None
    await signals.close()


async def test_what_a_chat_streams_is_known_to_every_replica_until_it_ends(
    redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix)
    here = RedisReplicaSignals(redis, keys, every=0.05)
    other = RedisReplicaSignals(redis, keys)  # the replica an edit or a press reached
    streaming = Streaming("gen", 7, 8, thread_id=3, asked=41, redoing="ans")
    stop = asyncio.Event()
    watch = asyncio.create_task(here.watch(100, streaming, stop, 501))
    for _ in range(200):  # marked as the watch starts
        if await other.streaming(100) is not None:
            break
        await asyncio.sleep(0.01)
    assert await other.streaming(100) == streaming
    assert await other.streaming(101) is None  # another chat streams nothing
    await asyncio.sleep(0.2)  # polls keep it alive
    assert 0 < await redis.ttl(keys.streaming(100)) <= 30
    # A redo stops it on the author's behalf, whoever asked for the redo (rights checked before).
    assert await other.request(100, streaming.generation_id, streaming.user_id)
    async with asyncio.timeout(2):
        await watch
    assert await other.streaming(100) is None
    await redis.set(keys.streaming(100), b'{"unknown": 1}')  # another version's record
    assert await other.streaming(100) is None
    await here.close()
