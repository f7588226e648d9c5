"""Edit to redo end to end: the edited latest question is answered in place, the old pair gone
from what goes upstream; an older one asks first; edits that change nothing are ignored; the
bot asks Telegram for edited_message in polling and webhooks alike."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer, StoredMessage
from tests.e2e.conftest import FAST, USER, Env, EnvFactory
from tests.e2e.webhook_apps import free_port, webhook_app

GROUP = -100950
ALICE, BOB = 951, 952


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


async def _conversation(env: Env, pairs: list[tuple[str, str]]) -> list[int]:
    asked = []
    for question, answer in pairs:
        env.gonka.enqueue(Reply(text=answer))
        asked.append(await env.telegram.send_text(USER, question))
        await _settled(env, USER, answer)
    return asked


def _button(message: StoredMessage) -> tuple[str, str]:
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return rows[0][0]["text"], rows[0][0]["callback_data"]


async def test_polling_asks_for_edited_messages(env: Env) -> None:
    await env.telegram.wait_for(lambda: env.telegram.allowed_updates, 10)
    allowed = set(env.telegram.allowed_updates or [])
    assert {"message", "edited_message", "callback_query"} <= allowed


async def test_webhook_asks_for_edited_messages() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with webhook_app(telegram, gonka, url, port):
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            allowed = telegram.calls_of("setWebhook")[0].params["allowed_updates"]
            listed = json.loads(allowed) if isinstance(allowed, str) else allowed
            assert {"message", "edited_message", "callback_query"} <= set(listed)


async def test_editing_the_latest_question_answers_it_in_place(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        asked = await _conversation(env, [("hi", "Hello."), ("What is 2+3?", "It is 6.")])
        answer_id = env.visible()[-1].message_id
        env.gonka.enqueue(Reply(text="It is 5."))
        await env.telegram.edit_text(USER, asked[1], "What is 2+3? Think.")
        await _settled(env, USER, "It is 5.")
        sent = [m["content"] for m in env.upstream_messages()]
        assert sent[1:] == ["hi", "Hello.", "What is 2+3? Think."]  # the old pair is gone
        assert env.visible_texts() == ["Hello.", "It is 5."]
        assert env.visible()[-1].message_id == answer_id  # in place
        env.gonka.enqueue(Reply(text="Ok."))
        await env.telegram.send_text(USER, "thanks")
        await _settled(env, USER, "Ok.")
        sent = [m["content"] for m in env.upstream_messages()]
        assert sent[1:] == ["hi", "Hello.", "What is 2+3? Think.", "It is 5.", "thanks"]


async def test_edits_that_change_nothing_are_ignored(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        asked = await _conversation(env, [("plain words", "Answer.")])
        bold = [{"type": "bold", "offset": 0, "length": 5}]
        await env.telegram.edit_text(USER, asked[0], "plain words", entities=bold)
        unanswered = await env.telegram.send_text(USER, "/usage")
        await env.wait_replies(2)
        await env.telegram.edit_text(USER, unanswered, "/usage please")
        await asyncio.sleep(0.5)
        assert env.gonka.completion_calls == 1
        assert len(env.visible()) == 2


async def test_editing_an_older_question_asks_first(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        asked = await _conversation(
            env, [("one", "First."), ("two", "Second."), ("three", "Third.")]
        )
        await env.telegram.edit_text(USER, asked[0], "one, edited")
        await env.telegram.wait_for(lambda: len(env.visible()) == 4, 10)
        offer = env.visible()[-1]
        label, data = _button(offer)
        assert label == "Redo from here (drops 2 later turns)"
        env.gonka.enqueue(Reply(text="First, again."))
        await env.telegram.press_button(USER, offer.message_id, data)
        await _settled(env, USER, "First, again.")
        assert [m["content"] for m in env.upstream_messages()][1:] == ["one, edited"]
        assert env.gonka.completion_calls == 4


async def test_in_a_group_only_the_askers_own_edit_counts(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="Paris."))
        asked = await env.telegram.send_text(
            GROUP, "@fake_llm_bot capital of France?", user_id=ALICE, first_name="Alice",
            chat_type="supergroup", chat_title="T",
        )  # fmt: skip
        await _settled(env, GROUP, "Paris.")
        await env.telegram.edit_text(GROUP, asked, "capital of France?")  # no longer calls it
        await asyncio.sleep(0.5)
        assert env.gonka.completion_calls == 1
        env.gonka.enqueue(Reply(text="Rome."))
        await env.telegram.edit_text(GROUP, asked, "@fake_llm_bot capital of Italy?")
        await _settled(env, GROUP, "Rome.")
        assert env.visible_texts(GROUP) == ["Rome."]
        assert "Italy" in env.upstream_messages()[-1]["content"]
        assert "France" not in str(env.upstream_messages())


async def test_an_edit_while_its_answer_streams_stops_it_then_redoes(make_env: EnvFactory) -> None:
    async with make_env() as env:
        env.gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.05))
        asked = await env.telegram.send_text(USER, "Write about cats")
        await env.telegram.wait_for(
            lambda: any("word" in str(c.params) for c in env.telegram.calls_of("sendMessageDraft")),
            10,
        )
        env.gonka.enqueue(Reply(text="Dogs are loyal."))
        await env.telegram.edit_text(USER, asked, "Write about dogs")
        await _settled(env, USER, "Dogs are loyal.")
        assert env.gonka.request_log[0].client_disconnected  # stopped first
        assert [m["content"] for m in env.upstream_messages()][1:] == ["Write about dogs"]
        assert env.visible_texts() == ["Dogs are loyal."]
