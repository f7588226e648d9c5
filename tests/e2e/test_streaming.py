"""Streaming and rendering end to end (issue: the smoothest, never-garbled answer)."""

from __future__ import annotations

import asyncio
import time

from bot.formatting.render import render_markdown
from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_telegram_limits import FloodLimits
from tests.doubles.qwen_tokens import count_text
from tests.e2e.conftest import USER, Env, EnvFactory


def squash(text: str) -> str:
    return "".join(text.split())


def long_answer(chars: int) -> str:
    paragraph = (
        "Decentralized inference spreads requests over many independent nodes; each one "
        "verifies the others' work, so no single operator controls the answers. "
    )
    code = "```python\nfor i in range(3):\n    print('<&>', i * 2)\n```\n\n"
    parts: list[str] = []
    size = 0
    index = 0
    while size < chars:
        block = code if index % 4 == 3 else f"**Part {index}.** " + paragraph * 2 + "\n\n"
        parts.append(block)
        size += len(block)
        index += 1
    return "".join(parts).strip()


MARKDOWN_STRESS = (
    "# Заголовок 🚀\n\n"
    "Compare `a < b && c > d` with snake_case_names and 2 * 3 * 4.\n\n"
    "- **жирный** and *italic* and ~~old~~ and [a link](https://example.com/?a=1&b=2)\n"
    "- emoji 👍🏽 count as two UTF-16 units: 🎉🎉🎉\n\n"
    "> a quote with <html> & entities\n\n"
    "| Model | Price |\n|---|---:|\n| Qwen | $0.00123 |\n| DeepSeek | $0.002 |\n\n"
    "```js\nconst x = `template ${value}`; // **not bold**\n```\n\n"
    "Half-written **bold at the end"
)


async def _ask(env: Env, text: str, count: int, **kwargs: object) -> None:
    await env.telegram.send_text(USER, text, **kwargs)  # type: ignore[arg-type]
    await env.wait_replies(count, timeout=30)


async def test_long_answers_arrive_whole_in_several_messages(env: Env) -> None:
    for chars, expected_messages in ((1500, 1), (9000, 3)):
        answer = long_answer(chars)
        env.gonka.enqueue(Reply(text=answer, chunk_chars=40, token_delay=0.002))
        before = len(env.visible())
        await _ask(env, f"write {chars}", before + expected_messages)
        new = env.visible()[before:]
        assert len(new) == expected_messages
        assert all(len((m.text or "").encode("utf-16-le")) // 2 <= 4096 for m in new)
        assert squash("".join(m.text or "" for m in new)) == squash(render_markdown(answer).text)
        # Every code block stays a code block, with its language, even where cut in two.
        pre = [e for m in new for e in m.entities if e["type"] == "pre"]
        assert pre and all(e.get("language") == "python" for e in pre)
    assert env.telegram.count_429 == 0


async def test_markdown_stress_cut_at_every_chunk_boundary(env: Env) -> None:
    for size in (1, 3, 7):
        env.gonka.enqueue(Reply(text=MARKDOWN_STRESS, chunk_chars=size, token_delay=0.001))
        before = len(env.visible())
        await _ask(env, f"stress {size}", before + 1)
        final = env.visible()[-1]
        expected = render_markdown(MARKDOWN_STRESS)
        assert final.text == expected.text
        types = {e["type"] for e in final.entities}
        assert {"bold", "italic", "code", "pre", "text_link", "blockquote"} <= types
        assert (final.text or "").endswith("Half-written **bold at the end")
    # Every draft sent while streaming was accepted: no entity was ever refused.
    refused = [c for c in env.telegram.calls if c.status == 400]
    assert refused == []


async def test_strict_rate_limit_still_delivers_the_complete_answer(make_env: EnvFactory) -> None:
    async with make_env(limits=FloodLimits.strict(calls=1, period=1.5), use_drafts=False) as env:
        answer = long_answer(5000)
        env.gonka.enqueue(Reply(text=answer, chunk_chars=20, token_delay=0.005))
        await _ask(env, "long please", 2)
        visible = "".join(env.visible_texts())
        assert squash(visible) == squash(render_markdown(answer).text)


async def test_429_retry_after_is_honoured(make_env: EnvFactory) -> None:
    async with make_env(use_drafts=False) as env:
        env.telegram.fail_next("editMessageText", status=429, retry_after=2, times=3)
        answer = "Steady answer. " * 30
        env.gonka.enqueue(Reply(text=answer, chunk_chars=5, token_delay=0.01))
        await _ask(env, "go", 1)
        assert env.visible_texts() == [render_markdown(answer).text]
        # After a 429 the bot waited retry_after before the next edit in that chat.
        edits = env.telegram.calls_of("editMessageText")
        limited = [c for c in edits if c.status == 429]
        assert limited
        after = [c for c in edits if c.at > limited[-1].at]
        assert after and after[0].at - limited[-1].at >= 1.9


async def test_unparseable_entities_fall_back_to_plain_text(make_env: EnvFactory) -> None:
    async with make_env(use_drafts=False) as env:
        env.telegram.fail_next(
            "sendMessage",
            status=400,
            description="Bad Request: can't parse entities: Unsupported start tag at byte offset 3",
        )
        env.gonka.enqueue(Reply(text="**Bold** answer with `code`.", chunk_chars=50))
        await _ask(env, "hi", 1)
        final = env.visible()[-1]
        assert final.text == "Bold answer with code."


async def test_drafts_refused_fall_back_to_edits_and_are_remembered(
    make_env: EnvFactory,
) -> None:
    async with make_env(drafts_enabled=False) as env:
        for n in (1, 2):
            env.gonka.enqueue(Reply(text=f"Answer {n}. " * 20, chunk_chars=4, token_delay=0.01))
            await _ask(env, f"q{n}", n)
        assert env.visible_texts() == [("Answer 1. " * 20).strip(), ("Answer 2. " * 20).strip()]
        # Refused once, then never tried again in that chat.
        assert len(env.telegram.calls_of("sendMessageDraft")) == 1
        assert env.telegram.calls_of("editMessageText")


async def test_stop_in_draft_closes_upstream_and_keeps_partial(env: Env) -> None:
    env.gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.02))
    await env.telegram.send_text(USER, "talk a lot")
    generation = await env.telegram.wait_for(lambda: next(iter(env.app.running.answers()), None))
    await env.telegram.wait_for(
        lambda: (d := env.telegram.draft(USER, generation.draft_id)) and len(d.text) > 30,
    )
    pressed = time.monotonic()
    await env.telegram.stop_generation(USER, generation.draft_id)
    await env.wait_replies(1)
    record = env.gonka.request_log[0]
    async with asyncio.timeout(2):
        await env.gonka.wait_idle()
    assert record.client_disconnected
    assert record.disconnected_at is not None and record.disconnected_at - pressed < 1.0
    final = env.visible_texts()[-1]
    assert final.startswith("word word") and final.endswith("Stopped.")
    # The partial answer is history, and what was generated is counted.
    env.gonka.enqueue(Reply(text="ok"))
    await _ask(env, "next", 2)
    kept = env.upstream_messages()[2]["content"]
    assert kept.startswith("word word") and len(kept) < len("word " * 400)
    await _ask(env, "/usage", 3)
    today = env.visible_texts()[-1].split("\n")[2]
    completion = int(today.split("completion ")[1].split(")")[0])
    # The stopped stream sent no usage: its completion is estimated from the text generated.
    assert completion >= 0.9 * (count_text(record.sent_content) + count_text("ok"))


async def test_stop_button_in_edit_mode(make_env: EnvFactory) -> None:
    async with make_env(use_drafts=False) as env:
        env.gonka.enqueue(Reply(text="line " * 400, chunk_chars=5, token_delay=0.02))
        await env.telegram.send_text(USER, "talk")
        message = await env.telegram.wait_for(
            lambda: next((m for m in env.visible() if m.reply_markup), None)
        )
        data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await env.telegram.press_button(USER, message.message_id, data, user_id=USER)
        await env.wait_replies(1)
        async with asyncio.timeout(2):
            await env.gonka.wait_idle()
        assert env.gonka.request_log[0].client_disconnected
        final = env.visible()[-1]
        assert (final.text or "").endswith("Stopped.")
        rows = (final.reply_markup or {}).get("inline_keyboard", [])
        assert [[b["text"] for b in row] for row in rows] == [["🔄"]]  # Stop gone, 🔄 stays


async def test_continue_after_length_limit(make_env: EnvFactory) -> None:
    async with make_env(max_tokens=30) as env:
        first = "The first half of a long story goes here and goes on and on. " * 3
        env.gonka.enqueue(Reply(text=first + "cut", chunk_chars=6))
        await _ask(env, "story", 1)
        cut = env.visible()[-1]
        assert "length limit" in (cut.text or "")
        button = cut.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
        env.gonka.enqueue(Reply(text="And the second half ends it.", chunk_chars=6))
        await env.telegram.press_button(USER, cut.message_id, button["callback_data"], user_id=USER)
        await env.wait_replies(2)
        assert env.visible_texts()[-1] == "And the second half ends it."
        assert env.visible()[0].reply_markup is None
        # The model was asked to go on from its own cut answer...
        asked = env.upstream_messages()
        assert asked[-2]["role"] == "assistant" and asked[-1]["role"] == "user"
        # ...and the continuation extends that same answer in history.
        env.gonka.enqueue(Reply(text="ok"))
        await _ask(env, "thanks", 3)
        history = env.upstream_messages()
        assert history[2]["content"].endswith("And the second half ends it.")
        assert len(history) == 4


async def test_reasoning_is_folded_and_never_stored(env: Env) -> None:
    env.gonka.enqueue(Reply(text="Four.", reasoning="2 + 2 is 4", chunk_chars=3))
    await _ask(env, "2+2?", 1)
    env.gonka.enqueue(Reply(text="Five.", reasoning="thinking", think_in_content=True))
    await _ask(env, "2+3?", 2)
    for message in env.visible():
        kinds = [e["type"] for e in message.entities]
        assert "expandable_blockquote" in kinds
    assert env.visible_texts()[0].endswith("Four.")
    history = env.upstream_messages()
    assert history[2] == {"role": "assistant", "content": "Four."}
    assert all("think" not in m["content"] for m in history)


async def test_two_quick_messages_are_answered_in_order(env: Env) -> None:
    env.gonka.enqueue(
        Reply(text="Answer one.", ttft=0.3, chunk_chars=2, token_delay=0.01),
        Reply(text="Answer two.", chunk_chars=2),
    )
    await env.telegram.send_text(USER, "one")
    await env.telegram.send_text(USER, "two")
    await env.wait_replies(2)
    assert env.visible_texts() == ["Answer one.", "Answer two."]
    second = env.upstream_messages(1)
    assert [m["content"] for m in second[1:]] == ["one", "Answer one.", "two"]


async def test_slow_first_token_shows_thinking_draft_then_typing(env: Env) -> None:
    env.gonka.enqueue(Reply(text="Worth the wait.", ttft=2.6))
    await _ask(env, "hard question", 1)
    calls = [c for c in env.telegram.calls if c.method in ("sendMessageDraft", "sendChatAction")]
    first = calls[0]
    assert first.method == "sendMessageDraft" and not first.params.get("text")  # "Thinking…"
    typing = [c for c in calls if c.method == "sendChatAction"]
    texts = [c for c in calls if c.method == "sendMessageDraft" and c.params.get("text")]
    assert typing and typing[0].params["action"] == "typing"
    assert all(c.status == 200 for c in calls)
    assert not texts or typing[0].at < texts[0].at
    assert env.visible_texts() == ["Worth the wait."]
