"""VariantStore and QuestionStore on Redis (or the embedded store), with the history's idle TTL:
the last answer is one JSON value per chat, the answered questions a list (one JSON entry each,
newest last). A turn writes both with one script: they share the chat's slot."""

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

# KEYS: the last answer, the answered questions. ARGV: the answer's JSON ("": not written), the
# TTL (0: none), then the question's message id ("": none), its entry and how many to keep. A
# question already there is answered again: it and the ones after it go, it comes in newest.
_ANSWERED = """
local ttl = tonumber(ARGV[2])
if ARGV[1] ~= '' then
  if ttl > 0 then redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
  else redis.call('SET', KEYS[1], ARGV[1]) end
end
if ARGV[3] ~= '' then
  local asked = redis.call('LRANGE', KEYS[2], 0, -1)
  for i = #asked, 1, -1 do
    if string.match(asked[i], '^%[(%-?%d+),') == ARGV[3] then
      if i == 1 then redis.call('DEL', KEYS[2]) else redis.call('LTRIM', KEYS[2], 0, i - 2) end
      break
    end
  end
  redis.call('RPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
  if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
end
return 1
"""


class RedisVariantStore:
    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys) -> None:
        self._redis, self._keys = redis, keys
        self._answered = redis.register_script(_ANSWERED)

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

    async def save_answered(
        self, chat: ChatKey, variants: AnswerVariants, asked: Asked, keep: int
    ) -> None:
        await self._write(chat, _encode(variants), asked, keep)

    async def questions(self, chat: ChatKey) -> list[Asked]:
        raw = await guard(lambda: self._redis.lrange(self._keys.questions(chat), 0, -1))
        try:
            return [_question(entry) for entry in raw]
        except (*_BROKEN, json.JSONDecodeError):
            return []

    async def save_questions(self, chat: ChatKey, asked: Sequence[Asked]) -> None:
        key, ttl = self._keys.questions(chat), self._keys.idle_ttl

        async def run() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if asked:
                    pipe.rpush(key, *(_entry(a) for a in asked))
                    if ttl:
                        pipe.expire(key, ttl)
                await pipe.execute()

        await guard_write(run)

    async def add_question(self, chat: ChatKey, asked: Asked, keep: int) -> None:
        await self._write(chat, "", asked, keep)

    async def _write(self, chat: ChatKey, variants: str, asked: Asked, keep: int) -> None:
        keys = [self._keys.variants(chat), self._keys.questions(chat)]
        args: list[str | int] = [
            variants,
            self._keys.idle_ttl,
            asked.message_id,
            _entry(asked),
            keep,
        ]
        await guard_write(lambda: self._answered(keys=keys, args=args))


def _entry(asked: Asked) -> str:
    """One question as the list keeps it: its message id first (the script finds it there)."""
    return json.dumps([asked.message_id, asked.digest, asked.asker, asked.edited])


def _question(raw: bytes | str) -> Asked:
    message_id, digest, asker, edited = json.loads(raw)
    return Asked(int(message_id), str(digest), int(asker), str(edited))


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
