"""The gate under pressure (issue 14): concurrent turns cannot overspend a quota, channels are
gated as themselves, refusals are told once per window, and unsupported content is gated too."""

from __future__ import annotations

import asyncio

from bot.telegram.texts import t
from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

ADMIN = 9001
GROUP = -100700
GROUP_CHAT = {"chat_type": "supergroup", "chat_title": "Team"}


def _channel(channel_id: int) -> dict[str, object]:
    return {"id": channel_id, "type": "channel", "title": f"Channel {channel_id}"}


async def _settled(env: Env) -> None:
    """Every update sent so far has been taken and handled."""
    await env.telegram.wait_for(lambda: not env.telegram.pending_updates, 10)
    await asyncio.sleep(0.2)
    await env.telegram.wait_for(lambda: env.app.running.updates == 0, 15)


async def test_one_user_in_thirty_groups_at_once_stays_within_the_quota(
    make_env: EnvFactory,
) -> None:
    groups = [-100800 - i for i in range(30)]
    async with make_env(**FAST, daily_token_quota=60, max_tokens=40, flood_messages=0) as env:
        for _ in groups:
            env.gonka.enqueue(Reply(text="word " * 30, chunk_chars=10, token_delay=0.02))
        await asyncio.gather(
            *(
                env.telegram.send_text(g, "@fake_llm_bot tell me", user_id=USER, **GROUP_CHAT)
                for g in groups
            )
        )
        await env.telegram.wait_for(
            lambda: all(env.visible(g) for g in groups) and env.app.running.active == 0, 20
        )
        # The first turn held the whole quota: the others were refused before the upstream.
        assert env.gonka.completion_calls == 1
        refusals = [env.visible_texts(g)[-1] for g in groups]
        assert sum("daily quota of 60 tokens" in text for text in refusals) == 29


async def test_channels_are_gated_as_themselves(make_env: EnvFactory) -> None:
    blocked, other = -100901, -100902
    async with make_env(**FAST, admin_ids=frozenset({ADMIN}), flood_messages=1) as env:
        await env.telegram.send_text(ADMIN, f"/block {blocked}", user_id=ADMIN)
        await env.wait_replies(1, ADMIN)
        await env.telegram.send_as_chat(GROUP, "@fake_llm_bot hi", _channel(blocked), **GROUP_CHAT)
        await env.wait_replies(1, GROUP)
        assert "blocked" in env.visible_texts(GROUP)[-1]
        # Another channel is not the blocked one, nor flooded by its posts (one turn allowed).
        await env.telegram.send_as_chat(GROUP, "@fake_llm_bot hi", _channel(other), **GROUP_CHAT)
        await env.wait_replies(2, GROUP)
        assert env.visible_texts(GROUP)[-1].startswith("Echo:")
        # An anonymous admin is the group itself: a separate flood count again.
        await env.telegram.send_as_chat(GROUP, "@fake_llm_bot yo", _channel(GROUP), **GROUP_CHAT)
        await env.wait_replies(3, GROUP)
        assert env.visible_texts(GROUP)[-1].startswith("Echo:")
        await env.telegram.send_as_chat(GROUP, "@fake_llm_bot again", _channel(other), **GROUP_CHAT)
        await env.wait_replies(4, GROUP)
        assert "slow down" in env.visible_texts(GROUP)[-1]
        assert env.gonka.completion_calls == 2


async def test_a_blocked_user_is_told_once_per_window(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN}), flood_messages=0) as env:
        await env.telegram.send_text(ADMIN, f"/block {USER}", user_id=ADMIN)
        await env.wait_replies(1, ADMIN)
        for number in range(8):
            await env.telegram.send_text(USER, f"hello {number}", user_id=USER)
        await _settled(env)
        assert env.visible_texts(USER) == ["Sorry, you are blocked from using this bot."]
        assert env.gonka.completion_calls == 0


async def test_stickers_count_for_flood_and_are_refused_once(make_env: EnvFactory) -> None:
    async with make_env(**FAST, flood_messages=3, flood_window=30) as env:
        for _ in range(3):
            await env.telegram.send_sticker(USER, user_id=USER)
        await env.telegram.send_text(USER, "now a question", user_id=USER)
        await _settled(env)
        texts = env.visible_texts(USER)
        assert texts.count(t("input_sticker", "en")) == 1
        assert "slow down" in texts[-1]
        assert env.gonka.completion_calls == 0


async def test_a_failed_turn_gives_its_hold_back(make_env: EnvFactory) -> None:
    async with make_env(**FAST, daily_token_quota=10_000, upstream_max_retries=0) as env:
        env.gonka.enqueue(Reply.error(401))
        await env.telegram.send_text(USER, "hello", user_id=USER)
        await env.wait_replies(1)
        holds = env.app.settings.redis_key_prefix + f":{{user:{USER}}}:holds"
        assert await env.app.redis.hlen(holds) == 0
        env.gonka.enqueue(Reply(text="Fine."))
        await env.telegram.send_text(USER, "again", user_id=USER)
        await env.wait_replies(2)
        assert env.visible_texts(USER)[-1] == "Fine."
        assert await env.app.redis.hlen(holds) == 0  # settled
