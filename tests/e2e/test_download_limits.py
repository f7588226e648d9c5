"""A download stops at DOCUMENT_MAX_BYTES while it streams, whatever Telegram announced."""

from __future__ import annotations

import pytest

from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import FAST, USER, EnvFactory

MB = 1024 * 1024
QUIET = {**FAST, "coalesce_window": 0.4, "coalesce_settle": 0.15}


@pytest.mark.parametrize(
    ("size", "data", "announced"),
    [(1000, 60 * MB, True), (None, 19 * MB, False)],
    ids=["file_size wrong", "file_size absent"],
)
async def test_a_download_stops_at_the_limit(
    make_env: EnvFactory, size: int | None, data: int, announced: bool
) -> None:
    async with make_env(**QUIET, document_max_bytes=MB) as env:
        await env.telegram.send_document(
            USER, b"x" * data, "dump.log", size=size, announced=announced
        )
        await env.wait_replies(1)
        text = env.visible_texts()[0]
        assert text.startswith("dump.log is ") and "I read files up to 1.0 MB" in text
        assert env.gonka.completion_calls == 0
        await env.telegram.wait_for(lambda: env.telegram.files.sending == 0, timeout=10)
        # What left the server: the limit, and what the sockets' buffers held when it stopped.
        (sent,) = env.telegram.files.sent_bytes.values()
        assert sent < data // 2
        # The bot still answers.
        env.gonka.enqueue(Reply(text="Still here."))
        await env.telegram.send_text(USER, "hello")
        await env.wait_replies(2)
        assert env.visible_texts()[1] == "Still here."
