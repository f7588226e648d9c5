"""Access lists, blocks, quotas and flood control: refused in words, before any upstream call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.doubles.fake_gonka import Reply
from tests.doubles.qwen_tokens import count_chat, count_text
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

ADMIN = 9001
ALLOWED_GROUP, OTHER_GROUP = -100601, -100602
GROUP_CHAT = {"chat_type": "supergroup", "chat_title": "Team"}


async def _say(env: Env, text: str, count: int, chat_id: int = USER, **kw: Any) -> str:
    await env.telegram.send_text(chat_id, text, **kw)
    await env.wait_replies(count, chat_id)
    return env.visible_texts(chat_id)[-1]


async def test_allow_list_in_private_chats_and_groups(make_env: EnvFactory) -> None:
    async with make_env(
        **FAST,
        admin_ids=frozenset({ADMIN}),
        access_mode="allowlist",
        allowed_chat_ids=str(ALLOWED_GROUP),
    ) as env:
        refused = await _say(env, "hello", 1)
        assert "only to invited users" in refused and str(USER) in refused
        # An allowed group answers everybody in it; another group does not.
        answer = await _say(env, "@fake_llm_bot hi", 1, ALLOWED_GROUP, user_id=USER, **GROUP_CHAT)
        assert answer == "Echo: [Test User]: hi"
        refused = await _say(env, "@fake_llm_bot hi", 1, OTHER_GROUP, user_id=USER, **GROUP_CHAT)
        assert "only to invited users" in refused
        assert env.gonka.completion_calls == 1

        await _say(env, f"/allow {USER}", 1, ADMIN, user_id=ADMIN)
        assert await _say(env, "hello again", 2) == "Echo: hello again"
        await _say(env, f"/allow {OTHER_GROUP}", 2, ADMIN, user_id=ADMIN)
        await _say(env, "@fake_llm_bot hi", 2, OTHER_GROUP, user_id=USER + 1, **GROUP_CHAT)
        assert env.gonka.completion_calls == 3


async def test_blocked_users_and_groups_get_no_upstream_call(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN})) as env:
        await _say(env, f"/block {USER}", 1, ADMIN, user_id=ADMIN)
        assert "blocked" in await _say(env, "hello", 1)
        assert "blocked" in await _say(
            env, "@fake_llm_bot hi", 1, ALLOWED_GROUP, user_id=USER, **GROUP_CHAT
        )
        await _say(env, f"/unblock {USER}", 2, ADMIN, user_id=ADMIN)
        # An admin blocks a group from inside it.
        await _say(env, "/block", 2, ALLOWED_GROUP, user_id=ADMIN, **GROUP_CHAT)
        text = await _say(env, "@fake_llm_bot hi", 3, ALLOWED_GROUP, user_id=USER, **GROUP_CHAT)
        assert "switched off for this group" in text
        assert env.gonka.completion_calls == 0
        assert await _say(env, "hello", 2) == "Echo: hello"
        assert env.gonka.completion_calls == 1


async def test_admin_commands_are_refused_for_others(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN})) as env:
        commands = [
            "/stats",
            "/usage all",
            f"/block {ADMIN}",
            "/allow 5",
            "/unblock 5",
            "/quota 5 1 1",
        ]
        for count, command in enumerate(commands, start=1):
            assert await _say(env, command, count) == "Only the bot's admins can do that."
        refused = await _say(env, "/block", 1, ALLOWED_GROUP, user_id=USER, **GROUP_CHAT)
        assert refused == "Only the bot's admins can do that."
        # Nothing changed: the admin is not blocked and the group still answers.
        assert await _say(env, "hi", 1, ADMIN, user_id=ADMIN) == "Echo: hi"
        await _say(env, "@fake_llm_bot hi", 2, ALLOWED_GROUP, user_id=USER, **GROUP_CHAT)
        assert env.gonka.completion_calls == 2


async def test_quota_blocks_before_upstream_and_resets_with_the_day(
    make_env: EnvFactory,
) -> None:
    now = [datetime(2026, 11, 25, 23, 50, tzinfo=UTC)]
    async with make_env(
        **FAST, admin_ids=frozenset({ADMIN}), daily_token_quota=30, clock=lambda: now[0]
    ) as env:
        env.gonka.enqueue(Reply(text="A fairly long answer that uses up the whole daily quota."))
        await _say(env, "first question", 1)
        record = env.gonka.request_log[0]
        used = count_chat(record.body["messages"]) + count_text(record.sent_content)
        assert used >= 30
        usage = await _say(env, "/usage", 2)
        assert "Quota today: 0 of 30 tokens left, renews 2026-11-26 00:00 UTC" in usage
        refused = await _say(env, "second question", 3)
        assert refused == (
            "You have used your daily quota of 30 tokens. It renews at 2026-11-26 00:00 UTC."
        )
        assert env.gonka.completion_calls == 1
        # Admins have no quota.
        assert await _say(env, "admin asks", 1, ADMIN, user_id=ADMIN) == "Echo: admin asks"

        now[0] += timedelta(minutes=15)  # a new day
        assert await _say(env, "next day", 4) == "Echo: next day"
        assert env.gonka.completion_calls == 3

        # An admin's override: no daily quota, a monthly one already used up.
        await _say(env, f"/quota {USER} 0 {used}", 2, ADMIN, user_id=ADMIN)
        refused = await _say(env, "more", 5)
        assert "monthly quota of" in refused and "2026-12-01 00:00 UTC" in refused
        await _say(env, f"/quota {USER} 100000 0", 3, ADMIN, user_id=ADMIN)
        assert await _say(env, "more", 6) == "Echo: more"


async def test_flood_control_says_slow_down(make_env: EnvFactory) -> None:
    async with make_env(**FAST, flood_messages=2, flood_window=30) as env:
        assert await _say(env, "one", 1) == "Echo: one"
        assert await _say(env, "two", 2) == "Echo: two"
        assert "slow down" in await _say(env, "three", 3)
        assert env.gonka.completion_calls == 2


async def test_group_context_keeps_nothing_from_blocked_users(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN})) as env:
        group = {"user_id": ADMIN, **GROUP_CHAT}
        await _say(env, "/context on", 1, ALLOWED_GROUP, **group)
        await _say(env, f"/block {USER}", 1, ADMIN, user_id=ADMIN)
        await env.telegram.send_text(ALLOWED_GROUP, "buy my coin", user_id=USER, **GROUP_CHAT)
        await env.telegram.send_text(ALLOWED_GROUP, "lunch at noon", user_id=1234, **GROUP_CHAT)
        await _say(env, "@fake_llm_bot when is lunch?", 2, ALLOWED_GROUP, **group)
        kept = [m["content"] for m in env.upstream_messages()[1:]]
        assert kept == ["[Test User]: lunch at noon", "[Test User]: when is lunch?"]
