"""Models: /model lists the live catalogue; choices are checked on the server; fallback on loss."""

from __future__ import annotations

from typing import Any

from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_telegram import StoredMessage
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

ADMIN = 9001
GROUP = -100777
GROUP_ADMIN = 1077
QWEN = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
DEEPSEEK = "deepseek-ai/DeepSeek-V3.1"
KIMI = "moonshotai/Kimi-K2-Instruct"


def _buttons(message: StoredMessage) -> dict[str, str]:
    """Button text -> callback data."""
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def _say(env: Env, text: str, count: int, chat_id: int = USER, **kw: Any) -> StoredMessage:
    await env.telegram.send_text(chat_id, text, **kw)
    await env.wait_replies(count, chat_id)
    return env.visible(chat_id)[-1]


async def _press(env: Env, chat_id: int, message: StoredMessage, text: str, user_id: int) -> Any:
    query_id = await env.telegram.press_button(
        chat_id, message.message_id, _buttons(message)[text], user_id=user_id
    )
    return await env.telegram.wait_for(lambda: env.telegram.callback_answers.get(query_id))


async def test_model_list_comes_from_the_live_catalogue(make_env: EnvFactory) -> None:
    async with make_env(**FAST, model_list_ttl=0) as env:
        long_name = "some-org/" + "x" * 120  # far beyond callback data's 64 bytes
        env.gonka.models = [QWEN, long_name, "new/Model-7B"]
        shown = await _say(env, "/model", 1)
        assert f"Model in this chat: {QWEN}" in (shown.text or "")
        assert list(_buttons(shown)) == [f"✅ {QWEN}", long_name, "new/Model-7B"]
        assert all(len(data.encode()) <= 64 for data in _buttons(shown).values())

        await _press(env, USER, shown, long_name, USER)
        await env.wait_replies(2)
        assert env.visible_texts()[-1] == f"Done: {long_name} now answers in this chat."
        await _say(env, "hi", 3)
        assert env.gonka.requests[-1]["model"] == long_name
        shown = await _say(env, "/model", 4)
        assert f"✅ {long_name}" in _buttons(shown)
        await _press(env, USER, shown, "↩️ Use the default", USER)
        await env.wait_replies(5)
        await _say(env, "again", 6)
        assert env.gonka.requests[-1]["model"] == QWEN


async def test_model_buttons_are_checked_on_the_server(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN}), users_can_pick_model=False) as env:
        group = {"chat_type": "supergroup", "chat_title": "Team"}
        shown = await _say(env, "/model", 1, GROUP, user_id=ADMIN, **group)
        # A member who is no admin presses the admin's keyboard: nothing changes, they are told.
        answer = await _press(env, GROUP, shown, KIMI, USER)
        assert answer["show_alert"] and "Only this group's admins" in answer["text"]
        # The setting keeps ordinary users from choosing even in their private chat.
        mine = await _say(env, "/model", 1)
        answer = await _press(env, USER, mine, DEEPSEEK, USER)
        assert "Only the bot's admins" in answer["text"]
        # /model default is an admin's keyboard; its buttons refuse others too.
        refused = await _say(env, "/model default", 2)
        assert refused.text == "Only the bot's admins can do that."
        admin_keyboard = await _say(env, "/model default", 1, ADMIN, user_id=ADMIN)
        answer = await _press(env, ADMIN, admin_keyboard, DEEPSEEK, USER)
        assert "Only the bot's admins" in answer["text"]
        await _say(env, "hello", 3)
        assert env.gonka.requests[-1]["model"] == QWEN

        # The admin sets the default for all chats, then the group's own model.
        await _press(env, ADMIN, admin_keyboard, DEEPSEEK, ADMIN)
        await env.wait_replies(2, ADMIN)
        assert "default model for all chats" in env.visible_texts(ADMIN)[-1]
        await _press(env, GROUP, shown, KIMI, ADMIN)
        # In a group the result is an ephemeral message only the admin who pressed sees.
        notice = await env.telegram.wait_for(lambda: env.telegram.ephemeral_messages(GROUP, ADMIN))
        assert KIMI in (notice[0].text or "")
        await _say(env, "hello again", 4)
        assert env.gonka.requests[-1]["model"] == DEEPSEEK
        await _say(env, "@fake_llm_bot hi", 2, GROUP, user_id=USER, **group)
        assert env.gonka.requests[-1]["model"] == KIMI
        # The group's own admin (Telegram's, not in ADMIN_IDS) chooses the group's model too.
        env.telegram.chat(GROUP).statuses[GROUP_ADMIN] = "administrator"
        answer = await _press(env, GROUP, shown, f"✅ {QWEN}", GROUP_ADMIN)  # as first shown
        assert not answer.get("show_alert")
        await env.telegram.wait_for(
            lambda: env.telegram.ephemeral_messages(GROUP, GROUP_ADMIN), timeout=5
        )
        await _say(env, "@fake_llm_bot and now?", 3, GROUP, user_id=USER, **group)
        assert env.gonka.requests[-1]["model"] == QWEN


async def test_missing_configured_model_falls_back_and_says_so_once(make_env: EnvFactory) -> None:
    async with make_env(
        **FAST, gonka_model="retired/Model", model_fallbacks=f"nope/x,{KIMI}"
    ) as env:
        await _say(env, "hi", 2)
        notice, answer = env.visible_texts()
        assert "retired/Model is not available" in notice and KIMI in notice
        assert answer == "Echo: hi"
        await _say(env, "and now?", 3)
        assert env.visible_texts()[-1] == "Echo: and now?"
        assert [r["model"] for r in env.gonka.requests] == [KIMI, KIMI]
        shown = await _say(env, "/model", 4)
        assert f"Model in this chat: {KIMI}" in (shown.text or "")
        assert "retired/Model is not available now" in (shown.text or "")


async def test_model_withdrawn_mid_life_answers_404_then_falls_back(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        await _withdrawn_mid_life(env)


async def _withdrawn_mid_life(env: Env) -> None:
    env.gonka.enqueue(Reply(text="first"))
    await _say(env, "one", 1)
    env.gonka.models.remove(QWEN)  # the catalogue is still cached: the request meets a 404
    await _say(env, "two", 3)
    notice, answer = env.visible_texts()[1:]
    assert f"{QWEN} is not available right now, so {DEEPSEEK} answers" in notice
    assert answer == "Echo: two"
    assert [(r.body["model"], r.status) for r in env.gonka.request_log] == [
        (QWEN, 200),
        (QWEN, 404),
        (DEEPSEEK, 200),
    ]
    await _say(env, "three", 4)
    assert env.visible_texts()[-1] == "Echo: three"
    assert env.gonka.requests[-1]["model"] == DEEPSEEK
