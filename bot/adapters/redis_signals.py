"""What the Stop and Continue buttons, and a redo that stops the answer streaming first, need
between replicas: a button or an edit may reach a replica other than the one generating."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from dataclasses import dataclass

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_keys import RedisKeys
from bot.core.stop import Streaming

log = logging.getLogger(__name__)

REQUEST_TTL = 600
# What a chat streams is kept alive by the poller: a replica that dies mid-answer leaves it for
# no longer than this (a press would take the dead answer for the redo it asks for).
STREAMING_TTL = 30
CONTINUABLE_TTL = 7 * 86400


def draft_name(draft_id: int) -> str:
    """The stop-request name of a draft (Telegram's native stop knows the draft, not the answer)."""
    return f"draft-{draft_id}"


@dataclass(frozen=True, eq=False)
class _Watch:
    keys: tuple[str, str]
    user: str
    stop: asyncio.Event
    streaming: str  # the chat's key naming what it streams, kept alive while it does


class RedisReplicaSignals:
    """Stop requests (the generating replica looks for them while it streams), what each chat
    streams now, and the chat's continuable answer."""

    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys, *, every: float = 0.5) -> None:
        self._redis = redis
        self._keys = keys
        self._every = every
        self._watches: set[_Watch] = set()
        self._poller: asyncio.Task[None] | None = None

    async def request(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        """Ask whichever replica runs `generation_id` to stop it. False when it runs nowhere,
        when `user_id` is not its author, or when Redis is away."""
        key = self._keys.stop_request(chat_id, generation_id)
        try:
            author = await self._redis.get(self._keys.answer_author(chat_id, generation_id))
            if author is None or int(author) != user_id:
                return False
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.sadd(key, user_id)
                pipe.expire(key, REQUEST_TTL)
                await pipe.execute()
        except Exception as exc:
            log.warning("stop request not stored chat=%s error=%s", chat_id, type(exc).__name__)
            return False
        return True

    async def watch(
        self, chat_id: int, streaming: Streaming, stop: asyncio.Event, draft_id: int
    ) -> None:
        """Set `stop` when the answer's author asked for it on any replica, by button or by
        Telegram's native stop of the draft, or when a redo asked for it on the author's
        behalf (runs until cancelled or stopped). Meanwhile the chat's `streaming` is stored.

        One poller looks for every answer this process streams, in one round trip each
        `every` seconds, instead of a round trip per answer.
        """
        generation_id, user_id = streaming.generation_id, streaming.user_id
        keys = (
            self._keys.stop_request(chat_id, generation_id),
            self._keys.stop_request(chat_id, draft_name(draft_id)),
        )
        now = self._keys.streaming(chat_id)
        watch = _Watch(keys, str(user_id), stop, now)
        names = (generation_id, draft_name(draft_id))
        authors = [self._keys.answer_author(chat_id, name) for name in names]
        # Shielded: redis-py (8.1, Python 3.11) at times loses a cancel that arrives during a
        # command, and the answer ends by cancelling this watch.
        marking = asyncio.ensure_future(self._mark(authors, now, streaming))
        try:
            await asyncio.shield(marking)
            self._watches.add(watch)
            if self._poller is None or self._poller.done():
                self._poller = asyncio.create_task(self._poll())
            await stop.wait()
        finally:
            self._watches.discard(watch)
            await marking  # then cleared, not overwritten by a late mark
            await self._mark(authors, now, None)

    async def streaming(self, chat_id: int) -> Streaming | None:
        """What the chat streams now, on whichever replica (None also when Redis is away)."""
        try:
            stored = await self._redis.get(self._keys.streaming(chat_id))
        except Exception as exc:
            log.warning("streaming answer not read chat=%s error=%s", chat_id, type(exc).__name__)
            return None
        return _streaming_of(stored) if stored is not None else None

    async def _mark(self, authors: list[str], now: str, streaming: Streaming | None) -> None:
        """Say who may stop the answer and what the chat streams, in one round trip, while it
        runs (None: it has ended)."""
        try:
            if streaming is None:
                await self._redis.delete(*authors, now)
                return
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in authors:
                    pipe.set(key, streaming.user_id, ex=REQUEST_TTL)
                pipe.set(now, json.dumps(dataclasses.asdict(streaming)), ex=STREAMING_TTL)
                await pipe.execute()
        except Exception as exc:
            log.warning("streaming answer not stored error=%s", type(exc).__name__)

    async def _poll(self) -> None:
        while self._watches:
            await asyncio.sleep(self._every)
            watches = [w for w in self._watches if not w.stop.is_set()]
            if not watches:
                continue
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for watch in watches:
                        for key in watch.keys:
                            pipe.sismember(key, watch.user)
                        pipe.expire(watch.streaming, STREAMING_TTL)
                    asked = await pipe.execute()
            except Exception:
                continue  # Redis away: the local Stop still works
            for index, watch in enumerate(watches):
                if asked[3 * index] or asked[3 * index + 1]:
                    watch.stop.set()

    async def close(self) -> None:
        """Stop the poller (the app is shutting down)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def set_continuable(self, chat_id: int, generation_id: str | None) -> None:
        """Remember the chat's answer that Continue may extend (None: there is none now)."""
        key = self._keys.continuable(chat_id)
        try:
            if generation_id is None:
                await self._redis.delete(key)
            else:
                await self._redis.set(key, generation_id, ex=CONTINUABLE_TTL)
        except Exception as exc:
            log.warning(
                "continuable answer not stored chat=%s error=%s", chat_id, type(exc).__name__
            )

    async def take_continuable(self, chat_id: int, generation_id: str) -> bool:
        """True once if `generation_id` is the chat's continuable answer (under the chat's lock)."""
        key = self._keys.continuable(chat_id)
        try:
            current = await self._redis.get(key)
            if current is None:
                return False
            if (current.decode() if isinstance(current, bytes) else current) != generation_id:
                return False
            await self._redis.delete(key)
        except Exception as exc:
            log.warning("continuable answer not read chat=%s error=%s", chat_id, type(exc).__name__)
            return False
        return True


def _streaming_of(stored: bytes | str) -> Streaming | None:
    """The stored Streaming; None when it does not read as one (another version wrote it)."""
    try:
        return Streaming(**json.loads(stored))
    except (ValueError, TypeError):
        return None
