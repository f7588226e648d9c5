"""HistoryStore on Redis (redis-py asyncio; fakeredis when no server is given); the UsageStore
is in redis_usage."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline

from bot.adapters.redis_client import guard, guard_write
from bot.adapters.redis_keys import RedisKeys
from bot.core.models import ChatKey, ChatMessage, ToolCall

T = TypeVar("T")


_guard = guard


def encode_message(message: ChatMessage) -> str:
    data: dict[str, object] = {"r": message.role, "c": message.content, "t": message.tokens}
    if message.tool_calls:
        data["k"] = [[call.id, call.name, call.arguments] for call in message.tool_calls]
    if message.tool_call_id is not None:
        data["i"] = message.tool_call_id
    if message.model:
        data["m"], data["a"] = message.model, message.at
    return json.dumps(data)


def decode_message(raw: bytes | str) -> ChatMessage:
    data = json.loads(raw)
    calls = tuple(ToolCall(*call) for call in data.get("k", ()))
    model, at = str(data.get("m", "")), int(data.get("a", 0))
    return ChatMessage(data["r"], data["c"], int(data["t"]), calls, data.get("i"), (), model, at)


class RedisHistoryStore:
    """History as one Redis list per chat: one round trip to load, one to append and trim."""

    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def load(self, chat: ChatKey) -> list[ChatMessage]:
        raw = await _guard(lambda: self._redis.lrange(self._keys.history(chat), 0, -1))
        return [decode_message(item) for item in raw]

    async def append(
        self, chat: ChatKey, messages: Sequence[ChatMessage], keep: int, drop: int = 0
    ) -> None:
        if not messages and drop <= 0:
            return
        key = self._keys.history(chat)

        async def run() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                if drop > 0:
                    pipe.ltrim(key, 0, -drop - 1)
                if messages:
                    pipe.rpush(key, *[encode_message(m) for m in messages])
                    pipe.ltrim(key, -max(keep, len(messages)), -1)
                self._refresh(pipe, chat)
                await pipe.execute()

        await guard_write(run)

    async def replace(self, chat: ChatKey, index: int, message: ChatMessage) -> None:
        async def run() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.lset(self._keys.history(chat), index, encode_message(message))
                self._refresh(pipe, chat)
                await pipe.execute()

        await guard_write(run)

    def _refresh(self, pipe: Pipeline | ClusterPipeline, chat: ChatKey) -> None:
        """A chat in use keeps its history, settings and mode (one slot) another idle period."""
        if self._keys.idle_ttl:
            pipe.expire(self._keys.history(chat), self._keys.idle_ttl)
            pipe.expire(self._keys.chat_settings(chat.chat_id), self._keys.idle_ttl)
            pipe.expire(self._keys.mode(chat), self._keys.idle_ttl)

    async def size(self, chat: ChatKey) -> int:
        return int(await _guard(lambda: self._redis.llen(self._keys.history(chat))))

    async def clear(self, chat: ChatKey) -> None:
        await _guard(lambda: self._redis.delete(self._keys.history(chat)))
