"""Trimming calibrated by the upstream's own prompt_tokens, checked against the Qwen tokenizer
(the fake Gonka server reports the real Qwen count of each request as usage.prompt_tokens)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import fakeredis
import pytest
from openai import AsyncOpenAI, DefaultAioHttpClient

from bot.adapters.gonka import GonkaGateway
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.budget import TokenCalibration
from bot.core.conversation import ConversationConfig
from bot.core.models import ChatKey, Reply
from tests.doubles.fake_gonka import FakeGonka
from tests.doubles.fake_gonka import Reply as Scripted
from tests.doubles.qwen_tokens import count_chat
from tests.fakes import ask, make_turns

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
BUDGET, MAX_TOKENS = 3000, 200
ROOM = BUDGET - MAX_TOKENS  # what the prompt may really take

CHINESE_Q = "请用简单的话解释一下去中心化推理网络是如何工作的，以及它和普通云服务有什么不同？"
CHINESE_A = (
    "去中心化推理网络把模型部署在许多独立节点上。用户的请求被路由到空闲的节点，节点完成计算后"
    "返回结果，并通过密码学证明来保证结果可信。与普通云服务相比，它没有单一的运营方，价格由市场"
    "决定，而且任何人都可以贡献算力获得收益。"
)
ENGLISH_Q = "Could you explain, in simple words, how a decentralized inference network works?"
ENGLISH_A = (
    "A decentralized inference network spreads a model over many independent nodes. Requests "
    "are routed to a free node, which computes the answer and proves it cryptographically. "
    "Unlike an ordinary cloud there is no single operator, prices come from a market, and "
    "anyone can contribute compute and earn from it."
)


class _Sink:
    async def started(self) -> None:
        return None

    def update(self, text: str, reasoning: str) -> None:
        return None

    def tool_status(self, lines: Sequence[str]) -> None:
        return None

    async def finish(self, reply: Reply) -> None:
        return None


@pytest.fixture
async def gonka() -> AsyncIterator[FakeGonka]:
    async with FakeGonka() as server:
        yield server


async def _prompts(gonka: FakeGonka, question: str, answer: str, turns: int) -> list[int]:
    """The real (Qwen) prompt size of each request of a long conversation."""
    redis = fakeredis.aioredis.FakeRedis()
    keys = RedisKeys("calibration")
    async with AsyncOpenAI(
        api_key=gonka.api_key, base_url=gonka.base_url + "/v1", http_client=DefaultAioHttpClient()
    ) as client:
        service = make_turns(
            GonkaGateway(client),
            RedisHistoryStore(redis, keys),
            RedisUsageStore(redis, keys),
            config=ConversationConfig("You are a helpful assistant.", BUDGET, MAX_TOKENS),
        )
        for i in range(turns):
            gonka.enqueue(Scripted(text=f"{i}. {answer}"))
            question_i = f"{i}. {question}"
            await ask(service, ChatKey(7), 7, question_i, MODEL, _Sink(), asyncio.Event())
    await redis.aclose()
    return [count_chat(body["messages"]) for body in gonka.requests]


async def test_chinese_history_uses_the_real_context(gonka: FakeGonka) -> None:
    # The estimate counts Chinese ~2.7x too high: uncalibrated, the prompt stayed near a third
    # of the room. Calibrated, it fills it and never overruns it.
    prompts = await _prompts(gonka, CHINESE_Q, CHINESE_A, 40)
    assert max(prompts) <= ROOM
    assert min(prompts[-10:]) >= 0.85 * ROOM, prompts[-10:]


async def test_english_history_never_overruns(gonka: FakeGonka) -> None:
    prompts = await _prompts(gonka, ENGLISH_Q, ENGLISH_A, 40)
    assert max(prompts) <= ROOM
    assert min(prompts[-10:]) >= 0.85 * ROOM, prompts[-10:]


def test_ratio_is_per_model_and_chat_and_bounded() -> None:
    calibration = TokenCalibration(size=2)
    assert calibration.ratio("m", 1) == 1.0  # nothing learnt: the estimate itself
    calibration.observe("m", 1, estimate=1000, real=400)
    assert calibration.ratio("m", 1) == pytest.approx(0.4 * TokenCalibration.MARGIN)
    assert calibration.ratio("other", 1) == 1.0 and calibration.ratio("m", 2) == 1.0
    calibration.observe("m", 1, estimate=1000, real=600)  # a running mean
    assert calibration.ratio("m", 1) == pytest.approx(0.5 * TokenCalibration.MARGIN)
    calibration.observe("m", 2, estimate=100, real=1)
    assert calibration.ratio("m", 2) == TokenCalibration.LOWEST
    calibration.observe("m", 3, estimate=100, real=100)  # the oldest chat is forgotten
    assert calibration.ratio("m", 1) == 1.0
