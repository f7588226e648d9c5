"""Inline mode end to end: the real bot against the fake Telegram (inline queries, choices,
edits by inline_message_id) and the fake Gonka."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_usage import RedisUsageStore
from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import FAST, Env, EnvFactory

ASKER, OTHER = 4101, 4102
GROUP = -100_4100


async def _query(telegram: FakeTelegramServer, text: str, user_id: int = ASKER) -> tuple[str, dict]:
    query_id = await telegram.send_inline_query(user_id, text)
    await telegram.wait_for(lambda: query_id in telegram.inline_answers)
    answer = telegram.inline_answers[query_id]
    assert answer["is_personal"] is True and 0 < answer["cache_time"] <= 10
    (result,) = answer["results"]
    return query_id, result


async def _choose(env: Env, text: str) -> tuple[str, str]:
    """Type `text`, pick its result in GROUP: (result id, inline_message_id)."""
    query_id, result = await _query(env.telegram, text)
    inline_id = await env.telegram.choose_inline_result(query_id, result["id"], GROUP)
    assert inline_id is not None
    return result["id"], inline_id


def _buttons(env: Env, inline_id: str) -> list[str]:
    markup = env.telegram.inline_message(inline_id).reply_markup or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def _answered(env: Env, inline_id: str, text: str) -> None:
    await env.telegram.wait_for(lambda: text in (env.telegram.inline_text(inline_id) or ""))
    await env.telegram.wait_for(lambda: env.gonka.in_flight == 0)
    await asyncio.sleep(0.1)


async def test_typing_makes_no_upstream_request(env: Env) -> None:
    for typed in ("h", "how do", "how do I boil an egg"):
        _, result = await _query(env.telegram, typed)
        assert "how do"[: len(typed)] in result["title"] or typed in result["title"]
    _, hint = await _query(env.telegram, "   ")
    _, long = await _query(env.telegram, "x" * 300)
    assert "Ask me" in hint["title"] and "too long" in long["title"]
    await asyncio.sleep(0.2)
    assert env.gonka.requests == []


async def test_the_choice_streams_a_complete_answer(make_env: EnvFactory) -> None:
    async with make_env(**FAST, inline_max_tokens=300) as env:
        text = "Boil it for nine minutes, then cool it in cold water. " * 3
        env.gonka.enqueue(Reply(text=text.strip(), token_delay=0.02))
        _, inline_id = await _choose(env, "how do I boil an egg")
        assert "⏳" in (env.telegram.inline_text(inline_id) or "")
        await _answered(env, inline_id, "cool it in cold water.")
        assert env.telegram.inline_text(inline_id) == text.strip()
        request = env.gonka.requests[0]
        assert request["max_tokens"] == 300
        assert [m["role"] for m in request["messages"]] == ["system", "user"]
        assert len(env.gonka.requests) == 1
        assert _buttons(env, inline_id)[0].startswith("ir:")  # 🔄 only
        assert env.telegram.bot_messages(GROUP) == [] and env.telegram.bot_messages(ASKER) == []
        usage = RedisUsageStore(env.app.redis, RedisKeys("gonka"))
        totals = await usage.totals(ASKER, datetime.now(UTC))
        assert totals.today.completion_tokens > 0  # counted for the asker


async def test_the_button_starts_it_without_feedback_and_only_once(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.telegram.inline_feedback = False
        env.gonka.enqueue(Reply(text="Paris is the capital of France.", token_delay=0.05))
        _, inline_id = await _choose(env, "capital of France?")
        (start,) = _buttons(env, inline_id)
        await env.telegram.press_inline_button(inline_id, start, OTHER)  # not the asker's
        await env.telegram.press_inline_button(inline_id, start, ASKER)
        await env.telegram.press_inline_button(inline_id, start, ASKER)  # a second tap
        await _answered(env, inline_id, "capital of France.")
        assert len(env.gonka.requests) == 1
        answers = env.telegram.callback_answers.values()
        assert any("Only the person who asked" in str(a.get("text")) for a in answers)


async def test_feedback_and_button_together_make_one_request(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="One answer.", ttft=0.3))
        _, inline_id = await _choose(env, "one question")
        (start,) = _buttons(env, inline_id)
        await env.telegram.press_inline_button(inline_id, start, ASKER)
        await _answered(env, inline_id, "One answer.")
        await asyncio.sleep(0.3)
        assert len(env.gonka.requests) == 1


async def test_regenerate_in_place_by_the_asker_only(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="First take."), Reply(text="Second take."))
        _, inline_id = await _choose(env, "a question")
        await _answered(env, inline_id, "First take.")
        (regen,) = _buttons(env, inline_id)
        await env.telegram.press_inline_button(inline_id, regen, OTHER)
        await env.telegram.wait_for(lambda: len(env.telegram.callback_answers) == 1)
        await asyncio.sleep(0.2)
        assert len(env.gonka.requests) == 1
        await env.telegram.press_inline_button(inline_id, regen, ASKER)
        await _answered(env, inline_id, "Second take.")
        assert len(env.gonka.requests) == 2
        assert env.telegram.inline_text(inline_id) == "Second take."


async def test_a_refused_user_sees_the_reason(make_env: EnvFactory) -> None:
    async with make_env(**FAST, access_mode="allowlist", allowed_user_ids="") as env:
        _, result = await _query(env.telegram, "let me in")
        content = result["input_message_content"]["message_text"]
        assert "reply_markup" not in result and content
        assert "can't answer" in result["title"]
        assert env.gonka.requests == []


async def test_a_long_answer_ends_with_the_link_and_arrives_in_private(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST, inline_max_tokens=4000) as env:
        words = " ".join(f"word{i}" for i in range(700))  # ~5,000 characters
        env.gonka.enqueue(Reply(text=words, chunk_chars=400))
        env.telegram.unstarted_users.add(ASKER)
        result_id, inline_id = await _choose(env, "write a lot")
        await env.telegram.wait_for(
            lambda: "t.me/" in str(env.telegram.inline_message(inline_id).entities)
        )
        shown = env.telegram.inline_message(inline_id)
        link = next(e["url"] for e in shown.entities if e["type"] == "text_link")
        assert link == f"https://t.me/fake_llm_bot?start=inl_{result_id}"
        assert len(shown.text) <= 4096 and "word0 " in shown.text
        assert env.telegram.bot_messages(ASKER) == []  # never opened the private chat
        await env.telegram.send_text(ASKER, f"/start inl_{result_id}", user_id=ASKER)
        await env.telegram.wait_for(lambda: "word699" in "".join(env.visible_texts(ASKER)))
        assert "".join(env.visible_texts(ASKER)).replace("\n", " ").count("word") == 700


async def test_the_full_answer_arrives_once_when_the_link_is_opened_during_its_delivery(
    make_env: EnvFactory,
) -> None:
    """The answer's own delivery to the private chat waits out a 429 while the user opens the
    link: the text arrives once (it came twice, one run in a few under load)."""
    async with make_env(**FAST, inline_max_tokens=4000) as env:
        words = " ".join(f"word{i}" for i in range(700))
        env.gonka.enqueue(Reply(text=words, chunk_chars=400))
        env.telegram.unstarted_users.add(ASKER)
        env.telegram.fail_next("sendMessage", status=429, retry_after=1)
        result_id, inline_id = await _choose(env, "write a lot")
        await env.telegram.wait_for(
            lambda: "t.me/" in str(env.telegram.inline_message(inline_id).entities)
        )
        await env.telegram.send_text(ASKER, f"/start inl_{result_id}", user_id=ASKER)
        await env.telegram.wait_for(lambda: "word699" in "".join(env.visible_texts(ASKER)))
        await asyncio.sleep(1.5)  # past the 429's retry_after: a second copy would be here
        assert "".join(env.visible_texts(ASKER)).replace("\n", " ").count("word") == 700


async def test_inline_mode_off_asks_for_no_inline_updates(make_env: EnvFactory) -> None:
    async with make_env(**FAST, inline_mode=False) as env:
        await env.telegram.wait_for(lambda: env.telegram.allowed_updates is not None)
        assert "inline_query" not in (env.telegram.allowed_updates or [])


async def test_allowed_updates_ask_for_inline_updates(env: Env) -> None:
    await env.telegram.wait_for(lambda: env.telegram.allowed_updates is not None)
    allowed = set(env.telegram.allowed_updates or [])
    assert {"inline_query", "chosen_inline_result", "callback_query"} <= allowed


async def test_a_user_blocked_before_the_choice_is_told_in_the_message(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST) as env:
        query_id, result = await _query(env.telegram, "a question")
        await env.app.dispatcher["gate"].block("user", ASKER)
        inline_id = await env.telegram.choose_inline_result(query_id, result["id"], GROUP)
        assert inline_id is not None
        await env.telegram.wait_for(lambda: "⏳" not in (env.telegram.inline_text(inline_id) or ""))
        assert "blocked" in (env.telegram.inline_text(inline_id) or "").lower()
        assert env.gonka.requests == []


async def test_an_inline_answer_neither_uses_nor_changes_the_private_history(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="Noted: apples."), Reply(text="Pears."), Reply(text="Apples."))
        await env.telegram.send_text(ASKER, "remember: apples", user_id=ASKER)
        await env.wait_replies(1, ASKER)
        _, inline_id = await _choose(env, "name a fruit")
        await _answered(env, inline_id, "Pears.")
        inline_sent = str(env.gonka.requests[1]["messages"])
        assert "apples" not in inline_sent and "name a fruit" in inline_sent
        await env.telegram.send_text(ASKER, "what did I say?", user_id=ASKER)
        await env.wait_replies(2, ASKER)
        private_sent = str(env.gonka.requests[2]["messages"])
        assert "remember: apples" in private_sent
        assert "name a fruit" not in private_sent and "Pears." not in private_sent


async def test_an_expired_question_says_so_instead_of_waiting(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        query_id, result = await _query(env.telegram, "an old question")
        await env.app.redis.delete(f"gonka:{{inline}}:q:{result['id']}")  # its TTL ran out
        inline_id = await env.telegram.choose_inline_result(query_id, result["id"], GROUP)
        assert inline_id is not None
        await env.telegram.wait_for(
            lambda: "expired" in (env.telegram.inline_text(inline_id) or "")
        )
        assert env.gonka.requests == []
