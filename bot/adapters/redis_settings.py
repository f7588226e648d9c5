"""Chat settings (model, system prompt, mode, group context), the default model, and access decisions on Redis."""

from __future__ import annotations

from typing import Any

from bot.adapters.redis_client import RedisClient, guard_write
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_quota import RedisQuota
from bot.adapters.redis_store import _guard
from bot.core.models import AccessRecord, AccessState, ChatKey, ChatMessage, ChatSettings
from bot.core.quota import Attempt, AttemptResult


def _str(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _int(value: bytes | str | None) -> int | None:
    text = _str(value)
    return int(text) if text is not None else None


def _state(value: bytes | str | None) -> AccessState | None:
    text = _str(value)
    if text == "allow":
        return "allow"
    if text == "block":
        return "block"
    return None


class RedisChatSettings:
    """ModelStore, PromptStore, ModeStore and ToolSwitches: a hash per chat, one for the bot's
    defaults, and the mode of each conversation (per topic) on the chat's slot."""

    def __init__(self, redis: RedisClient, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def settings(self, chat: ChatKey) -> ChatSettings:
        """ChatSettingsStore: the models, the chat's prompt and the conversation's mode."""

        async def run() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hget(self._keys.bot_settings(), "model")
                pipe.hmget(
                    self._keys.chat_settings(chat.chat_id), "model", "system", "system_tokens"
                )
                pipe.get(self._keys.mode(chat))
                return list(await pipe.execute())

        default, (model, text, tokens), mode = await _guard(run)
        system = None
        if text is not None and tokens is not None:
            system = ChatMessage("system", _str(text) or "", int(tokens))
        return ChatSettings(_str(default), _str(model), system, _str(mode))

    async def mode(self, chat: ChatKey) -> str | None:
        return _str(await _guard(lambda: self._redis.get(self._keys.mode(chat))))

    async def set_mode(self, chat: ChatKey, mode_id: str | None) -> None:
        """The mode expires with the chat's history (refreshed when chosen again)."""
        key, ttl = self._keys.mode(chat), self._keys.idle_ttl or None
        if mode_id is None:
            await guard_write(lambda: self._redis.delete(key))
        else:
            await guard_write(lambda: self._redis.set(key, mode_id, ex=ttl))

    async def chosen(self, chat_id: int) -> tuple[str | None, str | None]:
        async def run() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hget(self._keys.bot_settings(), "model")
                pipe.hget(self._keys.chat_settings(chat_id), "model")
                return list(await pipe.execute())

        default, chat = await _guard(run)
        return _str(default), _str(chat)

    async def set_default(self, model: str | None) -> None:
        await self._set(self._keys.bot_settings(), {"model": model})

    async def set_chat(self, chat_id: int, model: str | None) -> None:
        await self._set(self._keys.chat_settings(chat_id), {"model": model})

    async def system_prompt(self, chat_id: int) -> ChatMessage | None:
        key = self._keys.chat_settings(chat_id)
        text, tokens = await _guard(lambda: self._redis.hmget(key, "system", "system_tokens"))
        if text is None or tokens is None:
            return None
        return ChatMessage("system", _str(text) or "", int(tokens))

    async def set_system_prompt(self, chat_id: int, message: ChatMessage | None) -> None:
        key = self._keys.chat_settings(chat_id)
        if message is None:
            await self._set(key, {"system": None, "system_tokens": None})
        else:
            await self._set(key, {"system": message.content, "system_tokens": str(message.tokens)})

    async def keeps_context(self, chat_id: int) -> bool:
        key = self._keys.chat_settings(chat_id)
        return _str(await _guard(lambda: self._redis.hget(key, "context"))) == "on"

    async def set_keeps_context(self, chat_id: int, on: bool) -> None:
        await self._set(self._keys.chat_settings(chat_id), {"context": "on" if on else None})

    async def switched_off(self, chat_id: int) -> frozenset[str]:
        """ToolSwitches: the tools turned off in the chat ("*": all), a field of its hash."""
        key = self._keys.chat_settings(chat_id)
        text = _str(await _guard(lambda: self._redis.hget(key, "tools_off")))
        return frozenset(name for name in (text or "").split(",") if name)

    async def set_switched_off(self, chat_id: int, names: frozenset[str]) -> None:
        value = ",".join(sorted(names)) or None
        await self._set(self._keys.chat_settings(chat_id), {"tools_off": value})

    async def _set(self, key: str, values: dict[str, str | None]) -> None:
        # A chat's settings live as long as the chat is in use; the bot's own, for ever.
        ttl = self._keys.idle_ttl if key != self._keys.bot_settings() else 0
        await _set_fields(self._redis, key, values, ttl)


class RedisAccessStore:
    """AccessStore: one hash holds every decision (u:<id>, c:<id>) and quota (qd:<id>, qm:<id>)."""

    def __init__(self, redis: RedisClient, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._quota = RedisQuota(redis, keys)

    async def record(self, user_id: int, chat_id: int) -> AccessRecord:
        # A channel (or a group's anonymous admin) posting is a chat id: what admins decided
        # about that chat (/block -100...) applies to it as the author.
        author = f"u:{user_id}" if user_id > 0 else f"c:{user_id}"
        fields = (author, f"c:{chat_id}", f"qd:{user_id}", f"qm:{user_id}")
        user, chat, daily, monthly = await _guard(
            lambda: self._redis.hmget(self._keys.access(), *fields)
        )
        return AccessRecord(_state(user), _state(chat), _int(daily), _int(monthly))

    async def set_user(self, user_id: int, state: AccessState | None) -> None:
        await self._set({f"u:{user_id}": state})

    async def set_chat(self, chat_id: int, state: AccessState | None) -> None:
        await self._set({f"c:{chat_id}": state})

    async def set_quota(self, user_id: int, daily: int | None, monthly: int | None) -> None:
        await self._set(
            {
                f"qd:{user_id}": None if daily is None else str(daily),
                f"qm:{user_id}": None if monthly is None else str(monthly),
            }
        )

    async def attempt(self, attempt: Attempt) -> AttemptResult:
        return await self._quota.attempt(attempt)

    async def _set(self, values: dict[str, str | None]) -> None:
        await _set_fields(self._redis, self._keys.access(), values)


async def _set_fields(
    redis: RedisClient, key: str, values: dict[str, str | None], ttl: int = 0
) -> None:
    """Set and delete (None) hash fields in one transaction; `ttl` (s) refreshes the key's."""

    async def run() -> None:
        async with redis.pipeline(transaction=True) as pipe:
            for name, value in values.items():
                if value is None:
                    pipe.hdel(key, name)
                else:
                    pipe.hset(key, name, value)
            if ttl:
                pipe.expire(key, ttl)
            await pipe.execute()

    await _guard(run)
