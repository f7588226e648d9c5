"""VariantStore, QuestionStore and ModeStore on Redis (or the embedded store): one JSON value per chat
each, with the history's idle TTL."""

from __future__ import annotations

import json
from collections.abc import Sequence

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_client import guard, guard_write
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import decode_message, encode_message
from bot.core.models import ChatKey
from bot.core.redo import Asked
from bot.core.variants import AnswerVariants, Variant

# A record written by another version, or cut, reads as none: its buttons are then stale.
_BROKEN = (ValueError, KeyError, TypeError, IndexError)


class RedisVariantStore:
    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys) -> None:
        self._redis, self._keys = redis, keys

    async def load(self, chat: ChatKey) -> AnswerVariants | None:
        raw = await guard(lambda: self._redis.get(self._keys.variants(chat)))
        if raw is None:
            return None
        try:
            return _decode(raw)
        except _BROKEN:
            return None

    async def save(self, chat: ChatKey, variants: AnswerVariants) -> None:
        key, ttl = self._keys.variants(chat), self._keys.idle_ttl or None
        await guard_write(lambda: self._redis.set(key, _encode(variants), ex=ttl))

    async def mode(self, chat: ChatKey) -> str | None:
        raw = await guard(lambda: self._redis.get(self._keys.mode(chat)))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def set_mode(self, chat: ChatKey, mode_id: str | None) -> None:
        key, ttl = self._keys.mode(chat), self._keys.idle_ttl or None
        if mode_id is None:
            await guard_write(lambda: self._redis.delete(key))
        else:
            await guard_write(lambda: self._redis.set(key, mode_id, ex=ttl))

    async def questions(self, chat: ChatKey) -> list[Asked]:
        raw = await guard(lambda: self._redis.get(self._keys.questions(chat)))
        if raw is None:
            return []
        try:
            return [Asked(int(m), str(d), int(u), str(e)) for m, d, u, e in json.loads(raw)]
        except (*_BROKEN, json.JSONDecodeError):
            return []

    async def save_questions(self, chat: ChatKey, asked: Sequence[Asked]) -> None:
        value = json.dumps([[a.message_id, a.digest, a.asker, a.edited] for a in asked])
        key, ttl = self._keys.questions(chat), self._keys.idle_ttl or None
        await guard_write(lambda: self._redis.set(key, value, ex=ttl))


def _encode(variants: AnswerVariants) -> str:
    items = [
        {"m": item.model, "e": [encode_message(entry) for entry in item.entries]}
        for item in variants.items
    ]
    return json.dumps(
        {
            "a": variants.answer_id,
            "u": variants.asker,
            "s": list(variants.shown),
            "c": variants.current,
            "n": variants.serial,
            "i": items,
        }
    )


def _decode(raw: bytes | str) -> AnswerVariants:
    data = json.loads(raw)
    items = tuple(
        Variant(tuple(decode_message(entry) for entry in item["e"]), str(item["m"]))
        for item in data["i"]
    )
    current = int(data["c"])
    if not 0 <= current < len(items):
        raise ValueError("variant out of range")
    shown = tuple(int(i) for i in data["s"])
    answer_id, asker, serial = str(data["a"]), int(data["u"]), int(data["n"])
    return AnswerVariants(answer_id, asker, shown, items, current, serial)
