"""/mode end to end: the keyboard, the mode's system prompt, temperature and tools sent upstream,
the group rule, an unknown id, and MODES_FILE (added modes; one clear line when it does not
parse or names an unknown tool)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.core.modes import ModesFileError, read_modes_file
from tests.doubles.fake_gonka import Reply, ToolCall
from tests.doubles.fake_telegram import StoredMessage
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

GROUP = -100960
MEMBER, ADMIN = 961, 962


def _rows(message: StoredMessage) -> list[tuple[str, str]]:
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(row[0]["text"], row[0]["callback_data"]) for row in rows]


async def _ask(env: Env, chat_id: int, text: str, answer: str, **kw: Any) -> None:
    env.gonka.enqueue(Reply(text=answer))
    await env.telegram.send_text(chat_id, text, **kw)
    await env.telegram.wait_for(
        lambda: (
            any(text.startswith(answer) for text in env.visible_texts(chat_id))
            and env.app.running.active == 0
        ),
        10,
    )


async def test_mode_keyboard_and_the_modes_prompt_goes_upstream(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        await env.telegram.send_text(USER, "/mode")
        await env.telegram.wait_for(lambda: env.visible(), 10)
        keyboard = env.visible()[-1]
        rows = _rows(keyboard)
        assert [text for text, _ in rows] == [
            "✅ Assistant", "Translator", "Coder", "Editor", "Tutor",
        ]  # fmt: skip
        await env.telegram.press_button(USER, keyboard.message_id, rows[1][1])
        await env.telegram.wait_for(lambda: _rows(env.visible()[0])[1][0] == "✅ Translator", 10)
        await _ask(env, USER, "Guten Morgen", "Good morning")
        assert env.visible_texts()[-1] == "Good morning\n\n— Translator mode"  # the footer
        system = env.upstream_messages()[0]["content"]
        assert system.startswith("You are a translator")
        await env.telegram.send_text(USER, "/usage")
        await env.telegram.wait_for(lambda: "Mode here: Translator." in env.visible_texts()[-1], 10)
        await env.telegram.send_text(USER, "/mode nosuch")
        await env.telegram.wait_for(lambda: "nothing changed" in env.visible_texts()[-1], 10)
        await env.telegram.send_text(USER, "/mode assistant")
        await env.telegram.wait_for(lambda: env.visible_texts()[-1] == "Mode: Assistant.", 10)
        await _ask(env, USER, "hi", "Hello")
        assert env.upstream_messages()[0]["content"] == "You are a test assistant."
        assert env.visible_texts()[-1] == "Hello"  # the default mode: no footer


async def test_in_a_group_only_admins_change_the_mode(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.telegram.chat(GROUP).statuses[ADMIN] = "administrator"
        group = {"chat_type": "supergroup", "chat_title": "T"}
        await env.telegram.send_text(GROUP, "/mode", user_id=MEMBER, **group)
        await env.telegram.wait_for(lambda: env.visible(GROUP), 10)
        keyboard = env.visible(GROUP)[-1]
        coder = _rows(keyboard)[2][1]
        await env.telegram.press_button(GROUP, keyboard.message_id, coder, user_id=MEMBER)
        await env.telegram.wait_for(lambda: env.telegram.calls_of("answerCallbackQuery"), 10)
        await asyncio.sleep(0.2)
        assert _rows(env.visible(GROUP)[-1])[0][0] == "✅ Assistant"
        await env.telegram.press_button(GROUP, keyboard.message_id, coder, user_id=ADMIN)
        await env.telegram.wait_for(lambda: _rows(env.visible(GROUP)[-1])[2][0] == "✅ Coder", 10)
        await _ask(env, GROUP, "@fake_llm_bot sort a list", "sorted()", user_id=MEMBER, **group)
        assert env.upstream_messages()[0]["content"].startswith("You are an expert programmer")


async def test_modes_file_adds_a_mode_and_a_broken_one_is_named(
    make_env: EnvFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = tmp_path / "modes.toml"
    good.write_text(
        '[[mode]]\nid = "pirate"\nsystem_prompt = "Talk like a pirate."\n'
        'title = { en = "Pirate", ru = "Пират" }\ntemperature = 0.9\n'
        'model = "moonshotai/Kimi-K2-Instruct"\n',
        encoding="utf-8",
    )
    async with make_env(**FAST, modes_file=good) as env:
        await env.telegram.send_text(USER, "/mode pirate")
        await env.telegram.wait_for(lambda: env.visible_texts() == ["Mode: Pirate."], 10)
        await _ask(env, USER, "hello", "Arr")
        assert env.upstream_messages()[0]["content"] == "Talk like a pirate."
        assert env.gonka.requests[-1]["model"] == "moonshotai/Kimi-K2-Instruct"  # the mode's
        assert env.gonka.requests[-1]["temperature"] == 0.9
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"id": "x",\n  "system_prompt": }\n]\n', encoding="utf-8")
    with pytest.raises(ModesFileError, match=r"broken\.json: line 3"):
        read_modes_file(broken)
    with caplog.at_level(logging.ERROR):
        async with make_env(**FAST, modes_file=broken) as env:
            await env.telegram.send_text(USER, "/mode")
            await env.telegram.wait_for(lambda: env.visible(), 10)
            assert len(_rows(env.visible()[-1])) == 5  # the built-in modes
    named = [r.getMessage() for r in caplog.records if "MODES_FILE" in r.getMessage()]
    assert len(named) == 1 and "broken.json: line 3" in named[0]


def _offered(body: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in body.get("tools", [])]


async def test_a_modes_temperature_and_tools_go_upstream_in_every_round(
    make_env: EnvFactory, tmp_path: Path
) -> None:
    path = tmp_path / "modes.toml"
    path.write_text(
        '[[mode]]\nid = "math"\ntitle = "Math"\nsystem_prompt = "Compute."\n'
        'temperature = 0.2\ntools = ["calculate"]\n',
        encoding="utf-8",
    )
    settings = {"tools": "calculate,fetch_url", "temperature": 0.7, "modes_file": path}
    async with make_env(**FAST, **settings) as env:
        await env.telegram.send_text(USER, "/mode math")
        await env.telegram.wait_for(lambda: env.visible_texts() == ["Mode: Math."], 10)
        fetch = ToolCall("fetch_url", {"url": "http://127.0.0.1:9/"})  # not the mode's: refused
        env.gonka.enqueue(
            Reply(text="", tool_calls=[ToolCall("calculate", {"expression": "6*7"}), fetch])
        )
        await _ask(env, USER, "6 times 7?", "42")
        first, second = env.gonka.requests
        assert first["temperature"] == second["temperature"] == 0.2  # the tool round's too
        assert _offered(first) == _offered(second) == ["calculate"]
        results = [m["content"] for m in second["messages"] if m["role"] == "tool"]
        assert "42" in results[0] and "no tool named 'fetch_url'" in results[1]
        await env.telegram.send_text(USER, "/mode assistant")
        await env.telegram.wait_for(lambda: env.visible_texts()[-1] == "Mode: Assistant.", 10)
        await _ask(env, USER, "hi", "Hello")
        default = env.gonka.requests[-1]
        assert default["temperature"] == 0.7  # the bot-wide one
        assert _offered(default) == ["calculate", "fetch_url"]  # the chat's tools
        await env.telegram.send_text(USER, "/mode translator")
        await env.telegram.wait_for(lambda: env.visible_texts()[-1] == "Mode: Translator.", 10)
        await _ask(env, USER, "What is 6*7?", "Что такое 6*7?")
        translator = env.gonka.requests[-1]
        assert translator["temperature"] == 0.3 and "tools" not in translator  # the built-in's


async def test_a_modes_file_naming_an_unknown_tool_is_one_line_at_start(
    make_env: EnvFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "modes.toml"
    path.write_text(
        '[[mode]]\nid = "math"\ntitle = "Math"\nsystem_prompt = "Compute."\n'
        'tools = ["calculate", "calculator"]\n',
        encoding="utf-8",
    )
    with caplog.at_level(logging.ERROR):
        async with make_env(**FAST, modes_file=path) as env:
            await env.telegram.send_text(USER, "/mode")
            await env.telegram.wait_for(lambda: env.visible(), 10)
            assert len(_rows(env.visible()[-1])) == 5  # the built-in modes
    named = [r.getMessage() for r in caplog.records if "MODES_FILE" in r.getMessage()]
    assert named == [f"MODES_FILE not used: {path}: mode 1 (math): unknown tool(s) calculator"]
