"""SIGTERM to `python -m bot` during a streamed answer: the answer finishes and is stored."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.core.models import ChatKey
from bot.telegram.texts import t
from tests.conftest import REAL_REDIS_URL
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.bot_process import BotProcess, bot_env
from tests.e2e.conftest import FAST, EnvFactory
from tests.e2e.conftest import USER as E2E_USER
from tests.e2e.webhook_apps import free_port

USER = 7007
ANSWER = " ".join(f"word{n}" for n in range(60)) + "."


async def test_sigterm_lets_the_streamed_answer_finish(tmp_path: Path) -> None:
    redis = Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=0.5)
    try:
        await redis.ping()
    except Exception:
        await redis.aclose()
        pytest.skip(f"no Redis server at {REAL_REDIS_URL}: the test reads history after exit")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    port = free_port()
    try:
        async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
            env = bot_env(
                BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
                GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
                REDIS_URL=REAL_REDIS_URL, REDIS_KEY_PREFIX=prefix,
                HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), SHUTDOWN_GRACE="10",
            )  # fmt: skip
            bot = await BotProcess.start(tmp_path, env)
            process = bot.process
            try:
                # Start-up done (a loaded machine may take far longer than its usual ~4 s).
                await bot.wait_for(lambda: telegram.polls_started)  # the first poll is pending
                async with (
                    aiohttp.ClientSession() as http,
                    http.get(f"http://127.0.0.1:{port}/healthz") as response,
                ):
                    assert response.status == 200
                gonka.enqueue(Reply(text=ANSWER, chunk_chars=8, token_delay=0.02))
                await telegram.send_text(USER, "tell me a long story", user_id=USER)
                # Default settings: the answer streams as rich drafts (after a thinking block).
                await telegram.wait_for(
                    lambda: any(
                        "word" in c.params["rich_message"]["markdown"]
                        for c in telegram.calls_of("sendRichMessageDraft")
                    ),
                    10,
                )
                process.send_signal(signal.SIGTERM)  # mid-stream
                await asyncio.wait_for(process.wait(), 20)
            finally:
                await bot.stop()
            assert process.returncode == 0, bot.output[-2000:]
            assert gonka.request_log[0].completed
            assert [m.rich_markdown for m in telegram.bot_messages(USER)] == [ANSWER]
        history = await RedisHistoryStore(redis, RedisKeys(prefix)).load(ChatKey(USER))
        assert [m.content for m in history] == ["tell me a long story", ANSWER]
        usage = [key async for key in redis.scan_iter(match=f"{prefix}:{{user:{USER}}}:usage:*")]
        assert len(usage) == 4  # day, month, all time, and the day's tokens by model
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_answer_still_running_at_grace_end_is_kept_marked_as_cut_by_the_restart(
    make_env: EnvFactory, lang: str
) -> None:
    async with make_env(**FAST, use_drafts=False, shutdown_grace=0.5) as env:
        env.gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.02))
        await env.telegram.send_text(E2E_USER, "talk", language_code=lang)
        await env.telegram.wait_for(lambda: any(len(m.text or "") > 30 for m in env.visible()), 10)
        await env.app.drain()  # what SIGTERM runs: the grace is over long before the answer
        final = env.visible()[-1]
        assert (final.text or "").startswith("word")
        # Its own note: not the network error a cut stream is told about.
        assert (final.text or "").endswith(t("shutdown_note", lang))
        assert t("interrupted_note", lang) not in (final.text or "")
        rows = (final.reply_markup or {}).get("inline_keyboard", [])
        assert [[b["text"] for b in row] for row in rows] == [["🔄"]]  # Stop gone, 🔄 stays
        history = await RedisHistoryStore(env.app.redis, RedisKeys("gonka")).load(ChatKey(E2E_USER))
        assert [m.role for m in history] == ["user", "assistant"]
        assert history[1].content.startswith("word word")
        usage = [
            key async for key in env.app.redis.scan_iter(match=f"gonka:{{user:{E2E_USER}}}:usage:*")
        ]
        assert len(usage) == 4  # day, month, all time, and the day's tokens by model
