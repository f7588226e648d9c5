"""Conversation control end to end: Regenerate (🔄 and /retry) and an answer's variants, with
the upstream requests checked."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_telegram import StoredMessage
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

GROUP = -100900
ALICE, BOB, ADMIN = 901, 902, 903


def _button(message: StoredMessage, label: str) -> str:
    """The callback data of the button labelled `label` under `message`."""
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    for row in rows:
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise AssertionError(f"no {label!r} button under {message.text!r}: {rows}")


def _labels(message: StoredMessage) -> list[list[str]]:
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return [[button["text"] for button in row] for row in rows]


async def _settled(env: Env, chat_id: int, text: str) -> None:
    await env.telegram.wait_for(
        lambda: (
            text in env.visible_texts(chat_id)
            and env.app.running.active == 0
            and env.gonka.in_flight == 0
        ),
        10,
    )
    await asyncio.sleep(0.1)


async def test_regenerate_replaces_the_answer_and_the_variant_shown_is_kept(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST) as env:
        for question, answer in [("hi", "Hello."), ("Tell a joke", "Joke one.")]:
            env.gonka.enqueue(Reply(text=answer))
            await env.telegram.send_text(USER, question)
            await _settled(env, USER, answer)
        last = env.visible()[-1]
        assert _labels(last) == [["🔄"]]
        env.gonka.enqueue(Reply(text="Joke two."))
        await env.telegram.press_button(USER, last.message_id, _button(last, "🔄"))
        await _settled(env, USER, "Joke two.")
        # The same messages went again: nothing added, the old answer not sent back.
        assert env.upstream_messages(2) == env.upstream_messages(1)
        assert "Joke one." not in str(env.upstream_messages(2))
        shown = env.visible()
        assert [m.text for m in shown] == ["Hello.", "Joke two."]  # edited in place
        assert shown[-1].message_id == last.message_id
        assert _labels(shown[-1]) == [["🔄"], ["‹", "2/2", "›"]]
        await env.telegram.press_button(USER, last.message_id, _button(shown[-1], "‹"))
        await env.telegram.wait_for(lambda: env.visible_texts()[-1] == "Joke one.", 10)
        assert _labels(env.visible()[-1]) == [["🔄"], ["‹", "1/2", "›"]]
        env.gonka.enqueue(Reply(text="Bye."))
        await env.telegram.send_text(USER, "thanks")
        await _settled(env, USER, "Bye.")
        sent = [m["content"] for m in env.upstream_messages(3)]
        assert sent[1:] == ["hi", "Hello.", "Tell a joke", "Joke one.", "thanks"]
        assert env.gonka.completion_calls == 4  # every variant went upstream and was counted


async def test_retry_while_an_answer_streams_stops_it_then_answers_again(
    make_env: EnvFactory,
) -> None:
    async with make_env() as env:
        env.gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.05))
        await env.telegram.send_text(USER, "Write a long story")
        await env.telegram.wait_for(
            lambda: any("word" in str(c.params) for c in env.telegram.calls_of("sendMessageDraft")),
            10,
        )
        env.gonka.enqueue(Reply(text="A short story."))
        await env.telegram.send_text(USER, "/retry")
        await _settled(env, USER, "A short story.")
        assert env.gonka.request_log[0].client_disconnected  # the first answer was stopped
        assert env.upstream_messages(1) == env.upstream_messages(0)
        assert env.visible_texts() == ["A short story."]
        assert _labels(env.visible()[-1]) == [["🔄"], ["‹", "2/2", "›"]]


async def test_two_presses_are_one_redo(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="First answer."))
        await env.telegram.send_text(USER, "q")
        await _settled(env, USER, "First answer.")
        message = env.visible()[-1]
        data = _button(message, "🔄")
        env.gonka.enqueue(Reply(text="Second answer, slowly.", token_delay=0.05))
        await env.telegram.press_button(USER, message.message_id, data)
        await env.telegram.press_button(USER, message.message_id, data, check_button=False)
        await _settled(env, USER, "Second answer, slowly.")
        await asyncio.sleep(0.3)
        assert env.gonka.completion_calls == 2
        assert env.visible_texts() == ["Second answer, slowly."]


async def _ask_in_group(env: Env, text: str, user_id: int) -> int:
    return await env.telegram.send_text(
        GROUP, text, user_id=user_id, first_name="Alice", chat_type="supergroup", chat_title="T"
    )


async def test_in_a_group_only_the_asker_and_admins_regenerate(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.telegram.chat(GROUP).statuses[ADMIN] = "administrator"
        env.gonka.enqueue(Reply(text="Alice's answer."))
        await _ask_in_group(env, "@fake_llm_bot question", ALICE)
        await _settled(env, GROUP, "Alice's answer.")
        answer = env.visible(GROUP)[-1]
        data = _button(answer, "🔄")
        await env.telegram.press_button(GROUP, answer.message_id, data, user_id=BOB)
        await env.telegram.wait_for(lambda: env.telegram.calls_of("answerCallbackQuery"), 10)
        await asyncio.sleep(0.3)
        refusals = env.telegram.calls_of("answerCallbackQuery")
        assert len(refusals) == 1
        assert "Only the person who asked" in str(refusals[0].params.get("text"))
        assert env.gonka.completion_calls == 1
        assert env.visible_texts(GROUP) == ["Alice's answer."]
        env.gonka.enqueue(Reply(text="The admin's redo."))
        await env.telegram.press_button(GROUP, answer.message_id, data, user_id=ADMIN)
        await _settled(env, GROUP, "The admin's redo.")
        assert env.visible_texts(GROUP) == ["The admin's redo."]
        env.gonka.enqueue(Reply(text="Alice's redo."))
        redo = _button(env.visible(GROUP)[-1], "🔄")
        await env.telegram.press_button(GROUP, answer.message_id, redo, user_id=ALICE)
        await _settled(env, GROUP, "Alice's redo.")
        assert env.gonka.completion_calls == 3
        assert env.upstream_messages(2) == env.upstream_messages(0)


async def test_a_private_reply_brings_the_replied_message_as_context(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST) as env:
        for question, answer in [("a fruit?", "An apple."), ("a colour?", "Blue.")]:
            env.gonka.enqueue(Reply(text=answer))
            await env.telegram.send_text(USER, question)
            await _settled(env, USER, answer)
        apple = env.visible()[0].message_id
        env.gonka.enqueue(Reply(text="Red or green."))
        await env.telegram.send_text(USER, "what colour is it?", reply_to_message_id=apple)
        await _settled(env, USER, "Red or green.")
        assert env.upstream_messages()[-1]["content"] == (
            "(replying to:\n> An apple.\n)\nwhat colour is it?"
        )


async def test_in_a_group_a_retry_stops_the_answer_only_for_who_may_redo_it(
    make_env: EnvFactory,
) -> None:
    async with make_env() as env:
        env.telegram.chat(GROUP).statuses[ADMIN] = "administrator"
        env.gonka.enqueue(Reply(text="word " * 1000, chunk_chars=5, token_delay=0.02))
        await _ask_in_group(env, "@fake_llm_bot a long story", ALICE)
        await env.telegram.wait_for(lambda: "word word" in str(env.visible_texts(GROUP)), 10)
        answer = env.visible(GROUP)[0]
        await _ask_in_group(env, "/retry", BOB)  # may not redo Alice's answer: stops nothing
        await asyncio.sleep(0.5)
        assert not env.gonka.request_log[0].client_disconnected
        env.gonka.enqueue(Reply(text="The admin's redo."))
        await _ask_in_group(env, "/retry", ADMIN)
        await env.telegram.wait_for(lambda: env.gonka.request_log[0].client_disconnected, 5)
        await _settled(env, GROUP, "The admin's redo.")
        assert env.gonka.completion_calls == 2
        assert env.upstream_messages(1) == env.upstream_messages(0)
        shown = env.visible(GROUP)
        assert shown[0].message_id == answer.message_id and shown[0].text == "The admin's redo."
        assert "Only the person who asked" in str(shown[1].text)  # Bob's /retry, in its turn
