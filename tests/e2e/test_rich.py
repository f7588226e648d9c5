"""Rich answers end to end: rich drafts with thinking, rich messages, safety pass, fallbacks."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.formatting.render import render_markdown
from bot.formatting.rich_markdown import make_safe
from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_telegram_rich import live_tags
from tests.e2e.conftest import USER, Env, EnvFactory

RICH = {"rich_messages": True, "rich_drafts": True}
GROUP = -100700

ANSWER = (
    "## Comparison\n\n"
    "| Model | Context | Price |\n|:---|---:|---:|\n| Qwen | 128k | $0.00123 |\n| Kimi | 256k | $0.002 |\n\n"
    "The energy is $E = mc^2$, and in general:\n\n"
    "$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\n"
    "```python\ndef price(tokens: int) -> float:\n    return tokens * 1.23e-9  # $ per token\n```\n\n"
    "- [x] tables\n- [ ] more"
)


def squash(text: str) -> str:
    return "".join(text.split())


async def _ask(env: Env, text: str, count: int, chat_id: int = USER) -> None:
    if chat_id == USER:
        await env.telegram.send_text(USER, text)
    else:
        await env.telegram.send_text(
            chat_id, f"@fake_llm_bot {text}", user_id=501, chat_type="supergroup"
        )
    await env.wait_replies(count, chat_id, timeout=20)


async def test_table_math_code_answer_is_one_rich_message(make_env: EnvFactory) -> None:
    async with make_env(**RICH) as env:
        env.gonka.enqueue(
            Reply(text=ANSWER, reasoning="Compare the two.", chunk_chars=15, token_delay=0.04)
        )
        await _ask(env, "compare", 1)
        [message] = env.visible()
        assert message.text is None
        # What the model wrote, after the safety pass (prices escaped, math kept), after the
        # folded reasoning.
        assert message.rich_markdown is not None
        assert message.rich_markdown.endswith(make_safe(ANSWER))
        assert "| Qwen | 128k | \\$0.00123 |" in message.rich_markdown
        assert "$E = mc^2$" in message.rich_markdown
        assert "<details><summary>💭 Reasoning</summary>" in message.rich_markdown
        assert not env.telegram.calls_of("sendMessage")
        # Streamed as rich drafts: a thinking block first, then the answer, always with Stop.
        drafts = [c for c in env.telegram.calls_of("sendRichMessageDraft") if c.status == 200]
        assert drafts[0].params["rich_message"]["markdown"].startswith("<tg-thinking>")
        assert all(d.params["can_stop"] is True for d in drafts)
        assert any("## Comparison" in d.params["rich_message"]["markdown"] for d in drafts)
        assert not env.telegram.calls_of("sendMessageDraft")
        # History keeps the model's own Markdown, not the escaped copy.
        env.gonka.enqueue(Reply(text="ok"))
        await _ask(env, "thanks", 2)
        assert env.upstream_messages()[2]["content"] == ANSWER


async def test_prices_survive_and_buttons_are_not_live(make_env: EnvFactory) -> None:
    answer = (
        "Basic costs $5/month, Pro $50 a year (was $395k vs $483k in sales).\n\n"
        'Press <tg-button type="callback_data" data="admin:reset">here</tg-button> or '
        "![pixel](https://tracker.example/p.gif)\n\n"
        '<tg-button-row><tg-button type="login_url" url="https://evil.example">Log in'
        "</tg-button></tg-button-row>"
    )
    async with make_env(**RICH) as env:
        env.gonka.enqueue(Reply(text=answer, chunk_chars=9))
        await _ask(env, "prices?", 1)
        markdown = env.visible()[0].rich_markdown or ""
        assert "\\$5/month" in markdown and "\\$50 a year" in markdown
        assert "\\$395k vs \\$483k" in markdown
        assert live_tags(markdown) == []
        calls = env.telegram.calls_of("sendRichMessageDraft")
        drafts = [c.params["rich_message"]["markdown"] for c in calls if c.status == 200]
        assert drafts and all(not live_tags(d.split("</tg-thinking>")[-1]) for d in drafts)


async def test_stop_in_rich_draft_keeps_partial_marked_stopped(make_env: EnvFactory) -> None:
    async with make_env(**RICH) as env:
        env.gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.02))
        await env.telegram.send_text(USER, "talk a lot")
        generation = await env.telegram.wait_for(
            lambda: next(iter(env.app.running.answers()), None)
        )
        await env.telegram.wait_for(
            lambda: (
                (d := env.telegram.draft(USER, generation.draft_id))
                and "word word" in (d.rich_markdown or "")
            )
        )
        pressed = time.monotonic()
        await env.telegram.stop_generation(USER, generation.draft_id)
        await env.wait_replies(1)
        record = env.gonka.request_log[0]
        async with asyncio.timeout(2):
            await env.gonka.wait_idle()
        assert record.client_disconnected
        assert record.disconnected_at is not None and record.disconnected_at - pressed < 1.0
        final = env.visible()[-1].rich_markdown or ""
        assert final.startswith("word word") and final.endswith("_⏹ Stopped\\._")
        env.gonka.enqueue(Reply(text="ok"))
        await _ask(env, "next", 2)
        kept = env.upstream_messages()[2]["content"]
        assert kept.startswith("word word") and len(kept) < len("word " * 400)
        # History holds what the user was shown; the upstream may have sent a little more (at
        # most one read interval) that had not been read when Stop closed the stream.
        assert squash(kept) == squash(final.removesuffix("_⏹ Stopped\\._"))
        assert squash(record.sent_content).startswith(squash(kept))


@pytest.mark.parametrize(
    "description",
    ["Bad Request: RICH_MESSAGE_MEDIA_TOO_MANY", "Bad Request: RICH_VALIDATE_CTOR_NOT_ALLOWED"],
    ids=["listed", "unlisted"],
)
async def test_rejected_rich_message_arrives_complete_as_text(
    make_env: EnvFactory, description: str
) -> None:
    paragraph = "A long paragraph about **decentralized** inference and its nodes. " * 12
    answer = "\n\n".join(f"### Part {i}\n\n{paragraph.strip()}" for i in range(8))
    async with make_env(**RICH) as env:
        # Telegram publishes no list of rich rejections: an unknown one falls back as well.
        env.telegram.fail_next("sendRichMessage", status=400, description=description)
        env.gonka.enqueue(Reply(text=answer, chunk_chars=200))
        await _ask(env, "long", 2)
        texts = env.visible_texts()
        assert len(texts) >= 2 and all(len(t) <= 4096 for t in texts)
        assert squash("".join(texts)) == squash(render_markdown(answer).text)
        assert len(env.telegram.calls_of("sendRichMessage")) == 1
        # Content rejections never switch rich off: the next answer is rich again.
        env.gonka.enqueue(Reply(text="Short **rich** one."))
        before = len(env.visible())
        await _ask(env, "short", before + 1)
        assert env.visible()[-1].rich_markdown == "Short **rich** one."


async def test_email_like_token_is_resent_without_entity_detection(make_env: EnvFactory) -> None:
    async with make_env(**RICH) as env:
        env.gonka.enqueue(Reply(text="Set OPENAI_USER=openai:user@example.com and retry."))
        await _ask(env, "config?", 1)
        sends = env.telegram.calls_of("sendRichMessage")
        assert [c.status for c in sends] == [400, 200]
        assert sends[1].params["rich_message"]["skip_entity_detection"] is True
        assert "openai:user@example.com" in (env.visible()[0].rich_markdown or "")


async def test_server_without_rich_methods_is_detected_once(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.telegram.streaming.rich")
    async with make_env(rich_methods=False, **RICH) as env:
        for n in (1, 2):
            env.gonka.enqueue(Reply(text=f"**Answer {n}** with $5.", chunk_chars=4))
            await _ask(env, f"q{n}", n)
        assert env.visible_texts() == ["Answer 1 with $5.", "Answer 2 with $5."]
        assert len(env.telegram.calls_of("sendRichMessageDraft")) == 1
        assert not env.telegram.calls_of("sendRichMessage")
        switched = [r for r in caplog.records if "rich messages switched off" in r.getMessage()]
        assert len(switched) == 1


async def test_old_server_ignoring_rich_edits_is_detected_once(make_env: EnvFactory) -> None:
    async with make_env(
        rich_methods=False, rich_messages=True, use_drafts=False, private_edit_interval=0.2
    ) as env:
        for n in (1, 2):
            env.gonka.enqueue(Reply(text=f"Answer {n}. " * 30, chunk_chars=4, token_delay=0.01))
            await _ask(env, f"q{n}", n)
        assert env.visible_texts() == [("Answer 1. " * 30).strip(), ("Answer 2. " * 30).strip()]
        edits = env.telegram.calls_of("editMessageText")
        tried = [c for c in edits if "rich_message" in c.params]
        tried += env.telegram.calls_of("sendRichMessage")
        # The streamed message was edited with rich_message once ("message text is empty" from a
        # server that does not know the field), then rich was never tried again.
        assert len(tried) == 1 and tried[0].status == 400


async def test_group_streams_by_edits_and_finishes_rich(make_env: EnvFactory) -> None:
    async with make_env(group_edit_interval=0.3, **RICH) as env:
        env.gonka.enqueue(Reply(text=ANSWER, chunk_chars=10, token_delay=0.01))
        await _ask(env, "compare", 1, chat_id=GROUP)
        [message] = env.visible(GROUP)
        assert message.rich_markdown == make_safe(ANSWER)
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        assert [[b["text"] for b in row] for row in rows] == [["🔄"]]  # Stop gone, 🔄 stays
        assert not env.telegram.calls_of("sendRichMessageDraft")
        assert not env.telegram.calls_of("sendRichMessage")
        rich_edits = [
            c for c in env.telegram.calls_of("editMessageText") if "rich_message" in c.params
        ]
        assert len(rich_edits) == 1 and rich_edits[0].params["message_id"] == message.message_id


async def test_answer_over_the_rich_limit_continues_in_a_second_rich_message(
    make_env: EnvFactory,
) -> None:
    paragraph = "Inference on many nodes, verified by the others. " * 20
    answer = "\n\n".join(f"Paragraph {i}. {paragraph.strip()}" for i in range(45))
    assert len(answer) > 40_000
    async with make_env(max_tokens=20_000, context_token_budget=60_000, **RICH) as env:
        env.gonka.enqueue(Reply(text=answer, chunk_chars=4000))
        await _ask(env, "very long", 2)
        pieces = [m.rich_markdown or "" for m in env.visible()]
        assert len(pieces) == 2 and all(len(p) <= 32768 for p in pieces)
        assert squash("".join(pieces)) == squash(answer)
        assert pieces[1].startswith("Paragraph ")


PASTED = [
    {"type": "heading", "size": 3, "text": "Shopping"},
    {
        "type": "list",
        "items": [
            {"label": "1.", "blocks": [{"type": "paragraph", "text": "milk"}]},
            {"label": "2.", "blocks": [{"type": "paragraph", "text": "bread"}]},
        ],
    },
]


async def test_pasted_rich_message_is_answered(env: Env) -> None:
    env.gonka.enqueue(Reply(text="Two items."))
    await env.telegram.send_rich(USER, PASTED)
    await env.wait_replies(1)
    assert env.visible_texts() == ["Two items."]
    assert env.upstream_messages()[-1] == {
        "role": "user",
        "content": "### Shopping\n\n1. milk\n2. bread",
    }


async def test_rich_message_in_a_group_answered_only_when_addressed(env: Env) -> None:
    group = {"user_id": 501, "first_name": "Alice", "chat_type": "supergroup"}
    await env.telegram.send_rich(GROUP, PASTED, **group)
    called = [{"type": "paragraph", "text": "@fake_llm_bot what is on this list?"}, *PASTED[1:]]
    env.gonka.enqueue(Reply(text="Milk and bread."))
    await env.telegram.send_rich(GROUP, called, **group)
    await env.wait_replies(1, GROUP)
    assert env.visible_texts(GROUP) == ["Milk and bread."]
    assert env.gonka.completion_calls == 1
    assert env.upstream_messages()[-1]["content"] == (
        "[Alice]: what is on this list?\n\n1. milk\n2. bread"
    )


async def test_rich_send_that_timed_out_is_never_resent(make_env: EnvFactory) -> None:
    async with make_env(rich_messages=True) as env:
        env.app.bot.session.timeout = 0.5
        # Telegram stores the message but its answer never arrives in time: it may have been
        # delivered, so neither the rich message nor a text copy is sent again.
        env.telegram.delay_next("sendRichMessage", 1.5)
        env.gonka.enqueue(Reply(text="Delivered **once**."))
        await _ask(env, "hi", 1)
        await asyncio.sleep(1.6)
        assert [m.rich_markdown for m in env.visible()] == ["Delivered **once**."]
        assert len(env.telegram.calls_of("sendRichMessage")) == 1
        assert not env.telegram.calls_of("sendMessage")


async def test_refused_rich_draft_goes_on_as_text_drafts(make_env: EnvFactory) -> None:
    async with make_env(**RICH) as env:
        env.telegram.fail_next(
            "sendRichMessageDraft",
            status=400,
            description="Bad Request: can't parse rich message: unexpected end of input",
        )
        env.gonka.enqueue(Reply(text="Streaming on. " * 20, chunk_chars=6, token_delay=0.02))
        await _ask(env, "go", 1)
        assert len(env.telegram.calls_of("sendRichMessageDraft")) == 1
        assert env.telegram.calls_of("sendMessageDraft")  # the rest of this reply as text drafts
        assert env.visible()[0].rich_markdown == ("Streaming on. " * 20).strip()


async def test_group_answer_streamed_in_several_messages_ends_as_one_rich(
    make_env: EnvFactory,
) -> None:
    paragraph = "Nodes verify each other's work, so no operator controls answers. " * 8
    answer = "\n\n".join(f"**Part {i}.** {paragraph.strip()}" for i in range(16))
    assert len(answer) > 8000
    async with make_env(group_edit_interval=0.2, max_tokens=8000, **RICH) as env:
        env.gonka.enqueue(Reply(text=answer, chunk_chars=60, token_delay=0.01))
        await env.telegram.send_text(
            GROUP, "@fake_llm_bot long", user_id=501, chat_type="supergroup"
        )
        await env.telegram.wait_for(lambda: len(env.visible(GROUP)) >= 2)  # streamed in pieces
        await env.telegram.wait_for(lambda: env.app.running.active == 0)
        await asyncio.sleep(0.1)
        [message] = env.visible(GROUP)  # the extra streamed pieces are deleted
        assert message.rich_markdown == make_safe(answer)
        assert env.telegram.calls_of("deleteMessage")
