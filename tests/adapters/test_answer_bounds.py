"""What one history entry may hold, whatever the upstream sends and however often Continue is
pressed (ConversationService on the real gateway and the fake Gonka server)."""

from __future__ import annotations

import asyncio

import fakeredis
from openai import AsyncOpenAI, DefaultAioHttpClient

from bot.adapters.gonka import GonkaGateway
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.conversation import ConversationConfig
from bot.core.limits import AnswerLimits
from bot.core.models import ChatKey
from tests.adapters.test_token_calibration import MODEL, _Sink
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.fakes import ask, go_on, make_turns


async def test_continuations_cannot_grow_one_entry_past_its_cap() -> None:
    redis = fakeredis.aioredis.FakeRedis()
    history = RedisHistoryStore(redis, RedisKeys("bounds"))
    chat = ChatKey(5)
    async with (
        FakeGonka() as gonka,
        AsyncOpenAI(
            api_key=gonka.api_key,
            base_url=gonka.base_url + "/v1",
            http_client=DefaultAioHttpClient(),
        ) as client,
    ):
        service = make_turns(
            GonkaGateway(client),
            history,
            RedisUsageStore(redis, RedisKeys("bounds")),
            config=ConversationConfig(
                "Be brief.", 4000, 1000, limits=AnswerLimits(entry_chars=700)
            ),
        )
        part = "A sentence of a long answer that keeps going on. " * 6  # 300 characters
        gonka.enqueue(*[Reply(text=part, finish_reason="length") for _ in range(4)])
        reply = await ask(service, chat, 5, "Tell me all", MODEL, _Sink(), asyncio.Event())
        assert reply.outcome == "length"
        for _ in range(3):
            assert await go_on(service, chat, 5, MODEL, _Sink(), asyncio.Event())
    stored = (await history.load(chat))[-1]
    await redis.aclose()
    assert stored.role == "assistant"
    assert len(stored.content) == 700 and stored.content.startswith(part.strip())
    assert stored.tokens < 300  # recounted for what is kept, not the whole of it
