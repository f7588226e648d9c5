"""The painters (bot/telegram/streaming) with the call policy, against a mocked session."""

from __future__ import annotations

import asyncio

from aiogram.methods import (
    DeleteMessage,
    EditMessageText,
    SendChatAction,
    SendMessage,
    SendMessageDraft,
    SendRichMessage,
    SendRichMessageDraft,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.models import Outcome, Reply, Usage
from bot.telegram.bot_api import ApiCounters, CallPolicy
from bot.telegram.pacing import Pacers, Rate
from bot.telegram.streaming import Layout, SinkParts, StreamSink, Target, build_sink
from bot.telegram.streaming.rich import RichSwitch
from tests.telegram.mocked_bot import MockedBot

PRIVATE = 1001
GROUP = -100300
FAST = Rate(0.02, 5)
NOTES = {"length": "(cut)", "empty": "(empty)", "thinking": "Thinking", "reasoning": "Thoughts"}


def _markup(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=data, callback_data=data)]]
    )


STOP, CONTINUE = _markup("stop"), _markup("cont")


class Harness:
    def __init__(self, *, rich: RichSwitch | None = None, drafts: bool = True) -> None:
        self.bot = MockedBot()
        self.pacers = Pacers({"private": FAST, "group": FAST, "draft": FAST}, Rate(0.001, 30))
        self.bot.session.middleware(CallPolicy(self.pacers, ApiCounters()))
        self.rich = rich or RichSwitch(messages=False, drafts=False)
        self.drafts = drafts
        self.refused: list[int] = []

    def sink(self, chat_id: int = PRIVATE, limit: int = 4096) -> StreamSink:
        parts = SinkParts(
            layout=Layout(limit, show_reasoning=True, notes=NOTES),
            draft_id=9 if self.drafts and chat_id > 0 else None,
            stop_markup=STOP, continue_markup=CONTINUE, rich=self.rich,
            on_drafts_refused=lambda: self.refused.append(chat_id),
        )  # fmt: skip
        return build_sink(self.bot, self.pacers, Target(chat_id), parts)

    @property
    def names(self) -> list[str]:
        return [n for n in self.bot.mocked.names() if n != "SendChatAction"]


def _reply(text: str, outcome: Outcome = "complete", reasoning: str = "") -> Reply:
    return Reply(text, reasoning, outcome, Usage(1, 1), usage_estimated=False)


async def _stream(sink: StreamSink, words: list[str], gap: float = 0.05) -> str:
    await sink.started()
    text = ""
    for word in words:
        text += word
        sink.update(text, "")
        await asyncio.sleep(gap)
    return text


async def test_edits_stream_with_stop_then_the_final_edit_drops_it() -> None:
    h = Harness()
    sink = h.sink(GROUP)
    text = await _stream(sink, ["Hello", " there", " friend"])
    await sink.finish(_reply(text))
    sends, edits = h.bot.mocked.of(SendMessage), h.bot.mocked.of(EditMessageText)
    assert len(sends) == 1 and sends[0].method.reply_markup == STOP
    final = edits[-1].method
    assert isinstance(final, EditMessageText)
    assert (final.text, final.reply_markup) == ("Hello there friend", None)
    assert h.bot.mocked.of(SendChatAction), "typing shown before the first text"


async def test_a_cut_answer_ends_with_its_note_and_the_continue_button() -> None:
    h = Harness()
    sink = h.sink(GROUP)
    text = await _stream(sink, ["Half an answer"])
    await sink.finish(_reply(text, "length"))
    final = h.bot.mocked.of(EditMessageText)[-1].method
    assert isinstance(final, EditMessageText)
    assert (final.text, final.reply_markup) == ("Half an answer\n\n(cut)", CONTINUE)


async def test_drafts_then_one_final_message() -> None:
    h = Harness()
    sink = h.sink()
    text = await _stream(sink, ["Hello", " world"])
    await sink.finish(_reply(text))
    assert h.names[0] == "SendMessageDraft"  # the "Thinking…" placeholder
    assert h.names[-1] == "SendMessage" and h.names.count("SendMessage") == 1
    drafted = [s.method.text for s in h.bot.mocked.of(SendMessageDraft)]
    assert "Hello world" in drafted


async def test_a_long_answer_is_split_and_finished_pieces_are_sent_while_streaming() -> None:
    h = Harness()
    sink = h.sink(limit=400)
    words = [f"Sentence number {n} of a long answer.\n\n" for n in range(20)]
    text = await _stream(sink, words, gap=0.02)
    await sink.finish(_reply(text))
    sent = [s.method.text or "" for s in h.bot.mocked.of(SendMessage)]
    assert len(sent) >= 2
    assert all(len(piece) <= 400 for piece in sent)
    assert " ".join(sent).split() == text.split()


async def test_refused_drafts_move_the_answer_to_edits_and_the_chat_is_remembered() -> None:
    h = Harness()
    h.bot.mocked.add_error(400, "Bad Request: TEXTDRAFT_PEER_INVALID", method=SendMessageDraft)
    sink = h.sink()
    text = await _stream(sink, ["Hello", " world"])
    await sink.finish(_reply(text))
    assert h.refused == [PRIVATE]
    assert h.names.count("SendMessageDraft") == 1
    assert h.bot.mocked.of(SendMessage)[0].method.reply_markup == STOP
    final = h.bot.mocked.of(EditMessageText)[-1].method
    assert isinstance(final, EditMessageText) and final.text == "Hello world"


async def test_entities_refused_are_resent_as_plain_text() -> None:
    h = Harness()
    h.bot.mocked.add_error(400, "Bad Request: can't parse entities: x", method=SendMessage)
    sink = h.sink()
    await sink.started()
    await sink.finish(_reply("**bold** answer"))
    first, second = (s.method for s in h.bot.mocked.of(SendMessage))
    assert isinstance(first, SendMessage) and isinstance(second, SendMessage)
    assert first.entities and not second.entities
    assert second.text == "bold answer"


async def test_a_failure_replaces_the_answer_or_follows_it() -> None:
    h = Harness()
    sink = h.sink(GROUP)
    await _stream(sink, ["Partial"])
    await sink.fail("It broke")
    final = h.bot.mocked.of(EditMessageText)[-1].method
    assert isinstance(final, EditMessageText) and final.text == "It broke"
    after = Harness()
    sink = after.sink(GROUP)
    await sink.started()
    await sink.finish(_reply("Done"))
    await sink.fail("Not saved")
    assert [s.method.text for s in after.bot.mocked.of(SendMessage)] == ["Done", "Not saved"]


async def test_rich_drafts_then_a_rich_message() -> None:
    h = Harness(rich=RichSwitch(messages=True, drafts=True))
    sink = h.sink()
    text = await _stream(sink, ["**Rich**", " answer"])
    await sink.finish(_reply(text, reasoning="I thought."))
    assert h.names[0] == "SendRichMessageDraft"
    assert "SendMessageDraft" not in h.names and "SendMessage" not in h.names
    (final,) = (s.method for s in h.bot.mocked.of(SendRichMessage))
    assert isinstance(final, SendRichMessage)
    markdown = final.rich_message.markdown or ""
    assert markdown.startswith("<details><summary>Thoughts</summary>")
    assert markdown.endswith("**Rich** answer")


async def test_refused_rich_content_is_resent_as_text() -> None:
    h = Harness(rich=RichSwitch(messages=True, drafts=True))
    h.bot.mocked.add_error(400, "Bad Request: RICH_MESSAGE_TEXT_TOO_LONG", method=SendRichMessage)
    sink = h.sink()
    await sink.started()
    await sink.finish(_reply("An *answer*"))
    assert [s.method.text for s in h.bot.mocked.of(SendMessage)] == ["An answer"]
    assert h.rich.messages, "refused content does not turn rich messages off"


async def test_a_server_without_rich_methods_turns_rich_off_and_drafts_as_text() -> None:
    h = Harness(rich=RichSwitch(messages=True, drafts=True))
    h.bot.mocked.add_error(404, "Not Found: method not found", method=SendRichMessageDraft)
    sink = h.sink()
    text = await _stream(sink, ["Plain", " now"])
    await sink.finish(_reply(text))
    assert not h.rich.messages and not h.rich.drafts
    assert h.names.count("SendRichMessageDraft") == 1
    assert "SendMessageDraft" in h.names
    assert [s.method.text for s in h.bot.mocked.of(SendMessage)] == ["Plain now"]
    assert not h.bot.mocked.of(DeleteMessage)
