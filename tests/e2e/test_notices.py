"""Issue 14: every notice, error notices included, goes through the paced, retrying path."""

from __future__ import annotations

from tests.e2e.conftest import EnvFactory
from tests.e2e.redis_servers import free_port

USER = 7007


async def test_an_error_notice_that_meets_a_429_is_sent_after_the_wait(
    make_env: EnvFactory,
) -> None:
    # Storage is down (nothing listens on the port): the error handler tells the user. Telegram
    # answers that notice with a 429 first, as it did for a crowd of 150 users.
    async with make_env(redis_url=f"redis://127.0.0.1:{free_port()}/0") as env:
        env.telegram.fail_next("sendMessage", status=429, retry_after=1)
        await env.telegram.send_text(USER, "hello?", user_id=USER)
        await env.telegram.wait_for(lambda: len(env.visible(USER)) == 1, 10)
        assert "temporarily unavailable" in env.visible_texts(USER)[0]
        assert [c.status for c in env.telegram.calls_of("sendMessage")] == [429, 200]
