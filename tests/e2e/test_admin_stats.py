"""The admins' report and the per-chat system prompt, end to end."""

from __future__ import annotations

from typing import Any

from tests.doubles.qwen_tokens import count_chat, count_text
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

ADMIN = 9001
GROUP = -100900
GROUP_CHAT = {"chat_type": "supergroup", "chat_title": "Team"}
DEEPSEEK = "deepseek-ai/DeepSeek-V3.1"


async def _say(env: Env, text: str, count: int, chat_id: int = USER, **kw: Any) -> str:
    await env.telegram.send_text(chat_id, text, **kw)
    await env.wait_replies(count, chat_id)
    return env.visible_texts(chat_id)[-1]


def _tokens(env: Env, index: int) -> int:
    record = env.gonka.request_log[index]
    return count_chat(record.body["messages"]) + count_text(record.sent_content)


async def test_stats_match_what_the_upstream_reported(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN})) as env:
        await _say(env, "hello", 1)
        await _say(env, "@fake_llm_bot hi", 1, GROUP, user_id=USER + 1, **GROUP_CHAT)
        await _say(env, "/model", 2)
        env.gonka.models.remove("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8")
        await _say(env, "more", 4)  # a 404, then the fallback notice and the answer
        tokens = [_tokens(env, i) for i in (0, 1, 3)]
        assert env.gonka.request_log[2].status == 404

        report = await _say(env, "/usage all", 1, ADMIN, user_id=ADMIN)
        assert report == await _say(env, "/stats", 2, ADMIN, user_id=ADMIN)
        total = sum(tokens)
        assert f"Today: {total} tokens" in report
        assert "3 requests, 2 active users" in report
        assert f"Qwen/Qwen3-235B-A22B-Instruct-2507-FP8: {tokens[0] + tokens[1]} tokens" in report
        assert f"{DEEPSEEK}: {tokens[2]} tokens" in report
        users = report.split("Top users this month:\n")[1].split("\n\n")[0].splitlines()
        by_user = sorted([(tokens[0] + tokens[2], USER), (tokens[1], USER + 1)], reverse=True)
        assert users == [f"{user}: {used}" for used, user in by_user]
        chats = report.split("Top chats this month:\n")[1].split("\n\n")[0].splitlines()
        by_chat = sorted([(tokens[0] + tokens[2], USER), (tokens[1], GROUP)], reverse=True)
        assert chats == [f"{chat}: {used}" for used, chat in by_chat]
        upstream = report.split("\n")[-1]
        assert upstream.startswith("Upstream: healthy; time to first token p50 ")
        assert "(3 requests); errors: model 1" in upstream


async def test_per_chat_system_prompt_reaches_the_model(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN})) as env:
        shown = await _say(env, "/system", 1)
        assert shown == "This chat uses the default system prompt:\n\nYou are a test assistant."
        await _say(env, "/system You are a pirate. Answer like one.", 2)
        assert await _say(env, "/system", 3) == (
            "System prompt of this chat:\n\nYou are a pirate. Answer like one."
        )
        await _say(env, "ahoy", 4)
        assert env.upstream_messages()[0] == {
            "role": "system",
            "content": "You are a pirate. Answer like one.",
        }
        # In a group only admins set it; the group note still follows the chat's prompt.
        refused = await _say(env, "/system Be rude.", 1, GROUP, user_id=USER, **GROUP_CHAT)
        assert refused == "Only this group's admins (or the bot's) can do that."
        await _say(env, "/system Be brief.", 2, GROUP, user_id=ADMIN, **GROUP_CHAT)
        await _say(env, "@fake_llm_bot hi", 3, GROUP, user_id=USER, **GROUP_CHAT)
        system = env.upstream_messages()[0]["content"]
        assert system.startswith("Be brief.\n\n") and "group chat" in system

        await _say(env, "/system reset", 5)
        await _say(env, "back", 6)
        assert env.upstream_messages()[0]["content"] == "You are a test assistant."
        assert env.upstream_messages()[1:3] == [
            {"role": "user", "content": "ahoy"},
            {"role": "assistant", "content": "Echo: ahoy"},
        ]
