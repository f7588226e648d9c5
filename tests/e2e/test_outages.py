"""Redis stops mid-conversation and comes back: a clear message, then the bot goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import EnvFactory
from tests.e2e.redis_servers import free_port, start_redis, stop_redis

USER = 6006


async def test_redis_outage_tells_the_user_and_recovers(
    make_env: EnvFactory, tmp_path: Path
) -> None:
    port = free_port()
    server = await start_redis(tmp_path, port)
    try:
        async with make_env(redis_url=f"redis://127.0.0.1:{port}/0") as env:
            env.gonka.enqueue(Reply(text="Remembered."))
            await env.telegram.send_text(USER, "remember the word apple", user_id=USER)
            await env.wait_replies(1, USER)

            await stop_redis(server)
            await env.telegram.send_text(USER, "are you there?", user_id=USER)
            await env.telegram.wait_for(lambda: len(env.visible(USER)) == 2, 20)
            assert "temporarily unavailable" in env.visible_texts(USER)[-1]

            server = await start_redis(tmp_path, port)
            env.gonka.enqueue(Reply(text="Apple."))
            await env.telegram.send_text(USER, "which word?", user_id=USER)
            await env.wait_replies(3, USER)
            assert env.visible_texts(USER)[-1] == "Apple."
            asked = [m["content"] for m in env.upstream_messages() if m["role"] == "user"]
            assert asked == ["remember the word apple", "which word?"]
            assert len(env.gonka.requests) == 2  # nothing was asked while Redis was away
    finally:
        await stop_redis(server)


async def test_polling_backs_off_while_telegram_is_unreachable_and_resumes(
    make_env: EnvFactory,
) -> None:
    async with make_env() as env:
        await env.telegram.stop()  # the Bot API is gone: connections refused
        await asyncio.sleep(1.5)
        await env.telegram.start()  # back on the same port
        await env.telegram.send_text(USER, "hello again", user_id=USER)
        await env.wait_replies(1, USER, timeout=15)
        assert env.visible_texts(USER) == ["Echo: hello again"]
