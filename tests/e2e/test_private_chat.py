"""A private chat end to end: streaming, memory, reset, usage, errors."""

from __future__ import annotations

import gc

from tests.doubles.fake_gonka import Reply
from tests.doubles.qwen_tokens import count_chat, count_text
from tests.e2e.conftest import USER, Env, EnvFactory


async def test_streams_remembers_resets_and_counts(env: Env) -> None:
    answers = ["Hello! I am fine.", "You asked how I am.", "Two questions so far."]
    for question, answer in zip(
        ["How are you?", "What did I ask?", "Count?"], answers, strict=True
    ):
        env.gonka.enqueue(Reply(text=answer, chunk_chars=3, token_delay=0.02))
        count = len(env.visible())
        await env.telegram.send_text(USER, question)
        await env.wait_replies(count + 1)
    assert env.visible_texts() == answers
    # Drafts were used to stream in the private chat, then each answer persisted with sendMessage.
    assert env.telegram.calls_of("sendMessageDraft")
    third = env.upstream_messages(2)
    assert [m["role"] for m in third] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert third[0]["content"] == "You are a test assistant."
    assert third[2]["content"] == answers[0] and third[5]["content"] == "Count?"

    await env.telegram.send_text(USER, "/reset")
    await env.wait_replies(4)
    env.gonka.enqueue(Reply(text="Fresh start."))
    await env.telegram.send_text(USER, "Who am I?")
    await env.wait_replies(5)
    assert [m["role"] for m in env.upstream_messages()] == ["system", "user"]

    await env.telegram.send_text(USER, "/usage")
    await env.wait_replies(6)
    usage_text = env.visible_texts()[-1]
    prompt = sum(count_chat(r.body["messages"]) for r in env.gonka.request_log)
    completion = sum(count_text(r.sent_content) for r in env.gonka.request_log)
    assert (
        f"Today: {prompt + completion} tokens (prompt {prompt}, completion {completion})"
        in usage_text
    )


async def test_start_up_heap_is_frozen_before_updates_are_read(make_env: EnvFactory) -> None:
    gc.unfreeze()
    async with make_env() as env:
        await env.telegram.wait_for(lambda: env.telegram.calls_of("getUpdates"), timeout=5)
        # aiogram's, openai's and pydantic's long-lived objects: out of the full GC passes.
        assert gc.get_freeze_count() > 100_000


async def test_chats_leave_no_fsm_record_in_the_process(env: Env) -> None:
    # aiogram's default FSM storage added a record for every chat an update came from, for
    # ever; the bot uses no FSM state, so a chat that was answered leaves none.
    for chat_id in range(USER + 1, USER + 6):
        env.gonka.enqueue(Reply(text=f"Hello {chat_id}."))
        await env.telegram.send_text(chat_id, "Hi")
    await env.telegram.wait_for(
        lambda: all(env.telegram.bot_messages(c) for c in range(USER + 1, USER + 6)), timeout=20
    )
    storage = env.app.dispatcher.fsm.storage
    assert type(storage).__name__ == "BoundedStorage"
    assert storage.records == 0  # type: ignore[attr-defined]
