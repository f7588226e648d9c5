"""A hostile upstream floods one user's answer: the bot stops reading at the answer's size cap,
tells that user so, and meanwhile answers another user and its /healthz."""

from __future__ import annotations

import aiohttp
import pytest

from bot.telegram.texts import t
from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_gonka_floods import Flood, FloodKind
from tests.e2e.conftest import FAST, USER, EnvFactory
from tests.e2e.redis_servers import free_port

OTHER = 1002
MB = 1024 * 1024


@pytest.mark.parametrize("kind", ["tool_args", "sse_line", "json_body", "reasoning"])
async def test_a_flood_is_stopped_while_everyone_else_is_answered(
    make_env: EnvFactory, kind: FloodKind
) -> None:
    port = free_port()
    settings = {**FAST, "max_tokens": 1000, "http_host": "127.0.0.1", "http_port": port}
    async with make_env(**settings) as env, aiohttp.ClientSession() as http:
        await env.app.start_http()
        # Slow enough that the other user's turn comes while the flood is still being read.
        env.gonka.enqueue(Reply(flood=Flood(kind, size=64 * MB, piece=16 * 1024)))
        await env.telegram.send_text(USER, "tell me everything")
        await env.telegram.wait_for(lambda: env.gonka.completion_calls == 1, timeout=10)
        env.gonka.enqueue(Reply(text="Hello, other user."))
        await env.telegram.send_text(OTHER, "hi", user_id=OTHER)
        await env.wait_replies(1, chat_id=OTHER)
        assert env.visible_texts(OTHER) == ["Hello, other user."]
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
        await env.wait_replies(1)
        await env.gonka.wait_idle()
        flood = env.gonka.request_log[0]
        assert flood.client_disconnected
        assert flood.sent_bytes[0] < 16 * MB  # the cap, and what the socket buffers held
        shown = env.visible_texts()[-1]
        if kind == "reasoning":  # small deltas: the round's own character cap ends it
            assert shown == t("length_note", "en")
        else:
            assert shown == t("error_oversize", "en")
        # Nothing of the flood went upstream again.
        assert env.gonka.completion_calls == 2
        assert all(len(str(body)) < 100_000 for body in env.gonka.requests)
