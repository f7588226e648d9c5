"""Issue 16 end to end: pastes, files, photos, forwards and stickers through the real bot."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import pytest

from bot.telegram.texts import t
from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_telegram_files import origin_user
from tests.doubles.qwen_tokens import content_text
from tests.e2e.conftest import FAST, USER, Env, EnvFactory
from tests.unit.test_documents import make_docx, make_zip, minimal_pdf

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
GROUP = -100600
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00tiny-jpeg-bytes"
QUIET = {**FAST, "coalesce_window": 0.4, "coalesce_settle": 0.15}


def last_user(env: Env, index: int = -1) -> Any:
    return env.upstream_messages(index)[-1]["content"]


async def settled(env: Env, seconds: float = 1.0) -> None:
    """Let every update be handled (the coalescing window included) and every answer finish."""
    await asyncio.sleep(seconds)
    await env.telegram.wait_for(
        lambda: env.app.running.active == 0 and env.gonka.in_flight == 0, timeout=10
    )


async def test_txt_pdf_and_docx_reach_the_model_with_their_names(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        env.gonka.enqueue(Reply(text="A."), Reply(text="B."), Reply(text="C."))
        text = "Log line one\nThe unique phrase is amber-otter-311.\n".encode("cp1251")
        await env.telegram.send_document(USER, text, "server.log", caption="what's wrong?")
        await env.wait_replies(1)
        pdf = minimal_pdf(["Quarterly report", "The unique phrase is cobalt-heron-522."])
        await env.telegram.send_document(USER, pdf, "report.pdf", caption="summarize")
        await env.wait_replies(2)
        await env.telegram.send_document(
            USER, make_docx(["The unique phrase is jade-fox-733."]), "notes.docx"
        )
        await env.wait_replies(3)
        first, second, third = (content_text(last_user(env, i)) for i in range(3))
        assert "amber-otter-311" in first and '"server.log"' in first
        assert first.endswith("what's wrong?")
        assert "cobalt-heron-522" in second and "pages 1-2 of 2" in second
        assert "jade-fox-733" in third and '"notes.docx"' in third
        assert "without a question" in third  # no caption: the model is told what to do
        assert env.visible_texts() == ["A.", "B.", "C."]


async def test_a_4000_plus_500_paste_is_one_request(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="One answer."))
        await env.telegram.send_text(USER, "A" * 4000)
        await asyncio.sleep(0.2)
        await env.telegram.send_text(USER, "B" * 500)
        await env.wait_replies(1)
        await settled(env)
        assert env.gonka.completion_calls == 1
        assert last_user(env) == "A" * 4000 + "\n" + "B" * 500
        assert env.visible_texts() == ["One answer."]


async def test_a_forward_and_its_question_are_one_turn(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        env.gonka.enqueue(Reply(text="Say yes."))
        origin = origin_user(7, "Anna", "anna")
        await env.telegram.send_forward(USER, "Can we meet on Friday?", origin=origin)
        await env.telegram.send_text(USER, "what should I reply?")
        await env.wait_replies(1)
        await settled(env)
        assert env.gonka.completion_calls == 1
        assert last_user(env) == (
            "[Forwarded from the user Anna (@anna)]\nCan we meet on Friday?\nwhat should I reply?"
        )


async def test_an_album_is_one_turn_with_every_image(make_env: EnvFactory) -> None:
    async with make_env(**QUIET, vision_models=MODEL) as env:
        env.gonka.enqueue(Reply(text="Three cats."))
        await env.telegram.send_album(
            USER, [JPEG, JPEG + b"2", JPEG + b"3"], caption="what's here?"
        )
        await env.wait_replies(1)
        await settled(env)
        assert env.gonka.completion_calls == 1
        parts = last_user(env)
        assert [p["type"] for p in parts] == ["text", "image_url", "image_url", "image_url"]
        assert parts[0]["text"] == "what's here?"
        assert all(p["image_url"]["url"].startswith("data:image/jpeg;base64,") for p in parts[1:])
        assert env.telegram.token not in str(env.gonka.requests[-1])


async def test_a_photo_with_a_caption_with_and_without_vision(make_env: EnvFactory) -> None:
    async with make_env(**QUIET, vision_models=MODEL) as env:
        env.gonka.enqueue(Reply(text="A red car."), Reply(text="Still a car."))
        await env.telegram.send_photo_file(USER, JPEG, caption="what colour is it?")
        await env.wait_replies(1)
        parts = last_user(env)
        assert parts[0] == {"type": "text", "text": "what colour is it?"}
        assert parts[1]["type"] == "image_url"
        # History keeps a note of the photo, never the image.
        await env.telegram.send_text(USER, "and the wheels?")
        await env.wait_replies(2)
        history = env.upstream_messages()
        assert history[1]["content"] == "[The user sent a photo.]\nwhat colour is it?"
    async with make_env(**QUIET) as env:
        env.gonka.enqueue(Reply(text="From the caption: probably red."))
        await env.telegram.send_photo_file(USER, JPEG, caption="what colour is it?")
        await env.wait_replies(2)
        content = last_user(env)
        assert isinstance(content, str) and content.endswith("\nwhat colour is it?")
        assert "cannot see it" in content
        assert env.visible_texts() == [t("photo_not_seen", "en"), "From the caption: probably red."]
        assert env.telegram.files.downloads == []  # nothing downloaded the model cannot see
        for _ in range(3):  # photos without a caption: told once, like stickers
            await env.telegram.send_photo_file(USER, JPEG)
        await settled(env, 0.5)
        assert env.visible_texts()[2:] == [t("photo_no_vision", "en")]
        assert env.gonka.completion_calls == 1


async def test_a_too_large_document_is_refused_without_download(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        await env.telegram.send_document(USER, b"x" * 10, "dump.log", size=15 * 1024 * 1024)
        await env.wait_replies(1)
        assert env.visible_texts() == [
            t("doc_too_big", "en", name="dump.log", size="15.0 MB", limit="10.0 MB")
        ]
        assert env.telegram.files.downloads == []
        assert env.gonka.completion_calls == 0


async def test_a_long_document_says_what_was_used(make_env: EnvFactory) -> None:
    async with make_env(**QUIET, document_tokens=300, document_history_tokens=100) as env:
        env.gonka.enqueue(Reply(text="Summary."), Reply(text="Follow-up."))
        lines = [f"Line {n}: the quick brown fox jumps over the lazy dog." for n in range(400)]
        body = "The unique phrase is opal-crane-944.\n" + "\n".join(lines) + "\nTAIL-MARK"
        await env.telegram.send_document(USER, body.encode(), "long.txt", caption="summarize")
        await env.wait_replies(2)
        notice, answer = env.visible_texts()
        assert "long.txt is long" in notice and "first" in notice and answer == "Summary."
        sent = last_user(env)
        assert "opal-crane-944" in sent and "TAIL-MARK" not in sent
        assert "only the first" in sent
        # A follow-up question sees the bounded form the history keeps.
        await env.telegram.send_text(USER, "and what's at the end?")
        await env.wait_replies(3)
        history = env.upstream_messages()
        kept = history[1]["content"]
        assert "opal-crane-944" in kept and "history keeps only the first" in kept
        assert len(kept) < len(sent) and kept.endswith("summarize")
        assert history[-1]["content"] == "and what's at the end?"


async def test_unreadable_files_are_named_by_type(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        await env.telegram.send_document(USER, make_zip({"a.txt": b"hi"}), "backup.zip")
        await env.wait_replies(1)
        await env.telegram.send_document(USER, b"\x7fELF\x02\x01\x01" + bytes(200), "tool")
        await env.wait_replies(2)
        archive, binary = env.visible_texts()
        assert "backup.zip" in archive and "ZIP archive" in archive
        assert "tool" in binary and "executable (ELF)" in binary
        assert env.gonka.completion_calls == 0


async def test_a_sticker_burst_gets_one_answer(make_env: EnvFactory) -> None:
    async with make_env(**QUIET, flood_messages=20) as env:
        for _ in range(6):
            await env.telegram.send_sticker(USER)
        await env.telegram.send_voice(USER)
        await env.telegram.send_location(USER)
        await settled(env, 0.5)
        texts = env.visible_texts()
        assert texts.count(t("input_sticker", "en")) == 1
        assert t("input_voice", "en") in texts and t("input_location", "en") in texts
        assert len(texts) == 3
        assert env.gonka.completion_calls == 0


async def test_a_group_document_called_by_its_caption(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        env.gonka.enqueue(Reply(text="It lists the tasks."))
        group = {
            "user_id": 501,
            "first_name": "Alice",
            "chat_type": "supergroup",
            "chat_title": "T",
        }
        data = b"Tasks:\n1. The unique phrase is teal-badger-155.\n"
        await env.telegram.send_document(GROUP, data, "todo.txt", caption="for the team", **group)
        await env.telegram.send_document(
            GROUP, data, "todo.txt", caption="@fake_llm_bot what is this?", **group
        )
        await env.wait_replies(1, GROUP)
        await settled(env, 0.3)
        assert env.gonka.completion_calls == 1
        sent = last_user(env)
        assert "teal-badger-155" in sent and sent.endswith("[Alice]: what is this?")
        assert len(env.telegram.files.downloads) == 1  # the uncalled file is not downloaded


async def test_a_failed_download_is_told_and_never_logs_the_token(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_env(**QUIET) as env:
        ticks = itertools.count()
        env.telegram.files.clock = lambda: next(ticks) * 4000.0  # every link has expired
        await env.telegram.send_document(USER, b"some text", "notes.txt", caption="read it")
        await env.wait_replies(1)
        assert env.visible_texts() == [t("doc_download_failed", "en")]
        assert env.gonka.completion_calls == 0
    token = env.telegram.token
    assert "file not downloaded" in caplog.text
    assert token not in caplog.text and token.split(":")[1] not in caplog.text


async def test_a_reply_to_the_bot_with_a_file_calls_it_in_a_group(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        env.gonka.enqueue(Reply(text="Send me the file."), Reply(text="Read it."))
        group = {"user_id": 502, "first_name": "Bob", "chat_type": "supergroup", "chat_title": "T"}
        await env.telegram.send_text(GROUP, "@fake_llm_bot can you read logs?", **group)
        await env.wait_replies(1, GROUP)
        answer = env.visible(GROUP)[0].message_id
        data = b"ERROR disk full; the unique phrase is plum-moth-266\n"
        await env.telegram.send_document(
            GROUP, data, "app.log", reply_to_message_id=answer, **group
        )
        await env.wait_replies(2, GROUP)
        sent = last_user(env)
        assert "plum-moth-266" in sent and '"app.log"' in sent
        assert env.gonka.completion_calls == 2


async def test_files_sent_together_are_one_turn(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        env.gonka.enqueue(Reply(text="Both read."))
        album = env.telegram.new_media_group()
        await env.telegram.send_document(
            USER, b"First: ruby-wren-401", "one.txt", media_group_id=album
        )
        await env.telegram.send_document(
            USER, b"Second: onyx-mole-402", "two.txt", caption="compare", media_group_id=album
        )
        await env.wait_replies(1)
        await settled(env)
        assert env.gonka.completion_calls == 1
        sent = last_user(env)
        assert "ruby-wren-401" in sent and "onyx-mole-402" in sent and sent.endswith("compare")


async def test_a_file_without_words_names_its_new_topic(make_env: EnvFactory) -> None:
    async with make_env(**QUIET, has_topics_enabled=True) as env:
        topic = env.telegram.open_topic(USER)
        await env.telegram.send_document(
            USER, b"plain notes", "meeting-notes.txt", message_thread_id=topic,
            is_topic_message=True,
        )  # fmt: skip
        await env.wait_replies(1)
        await env.telegram.wait_for(lambda: env.telegram.calls_of("editForumTopic"))
        assert env.telegram.chat(USER).topics[topic] == "meeting-notes.txt"


async def test_a_photo_still_tells_of_a_replaced_model(make_env: EnvFactory) -> None:
    kimi = "moonshotai/Kimi-K2-Instruct"
    async with make_env(
        **QUIET, gonka_model="retired/Model", model_fallbacks=kimi, vision_models=kimi
    ) as env:
        env.gonka.enqueue(Reply(text="A cat."))
        await env.telegram.send_photo_file(USER, JPEG, caption="what is it?")
        await env.wait_replies(2)
        notice, answer = env.visible_texts()
        assert "retired/Model is not available" in notice and answer == "A cat."
        assert last_user(env)[1]["type"] == "image_url"  # the replacement sees images


async def test_a_group_paste_called_in_its_first_part_is_one_turn(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        env.gonka.enqueue(Reply(text="Read both parts."))
        group = {
            "user_id": 501,
            "first_name": "Alice",
            "chat_type": "supergroup",
            "chat_title": "T",
        }
        await env.telegram.send_text(GROUP, "@fake_llm_bot review: " + "A" * 3980, **group)
        await asyncio.sleep(0.1)
        await env.telegram.send_text(GROUP, "B" * 500, **group)
        await env.wait_replies(1, GROUP)
        await settled(env)
        assert env.gonka.completion_calls == 1
        assert last_user(env) == "[Alice]: review: " + "A" * 3980 + "\n" + "B" * 500
