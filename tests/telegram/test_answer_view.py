"""The answer view (bot/telegram/streaming) with the call policy, against a mocked session."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
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
from bot.telegram.pacing import Cadence, Pacers, Rate
from bot.telegram.streaming import AnswerParts, AnswerView, Layout, Outbox, RichSwitch, Target
from tests.telegram.mocked_bot import MockedBot, cadence

PRIVATE = 1001
GROUP = -100300
FAST = cadence(Rate(0.02, 5), Rate(0.001, 30))
NOTES = {"length": "(cut)", "empty": "(empty)", "thinking": "Thinking", "reasoning": "Thoughts"}


def _markup(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=data, callback_data=data)]]
    )


STOP, CONTINUE = _markup("stop"), _markup("cont")


class Harness:
    def __init__(
        self, *, rich: RichSwitch | None = None, drafts: bool = True, cadence: Cadence = FAST
    ) -> None:
        self.bot = MockedBot()
        self.pacers = Pacers(cadence)
        self.bot.session.middleware(CallPolicy(self.pacers, ApiCounters()))
        self.rich = rich or RichSwitch(messages=False, drafts=False)
        self.drafts = drafts
        self.refused: list[int] = []

    def view(self, chat_id: int = PRIVATE, limit: int = 4096) -> AnswerView:
        parts = AnswerParts(
            layout=Layout(limit, show_reasoning=True, notes=NOTES),
            draft_id=9 if self.drafts and chat_id > 0 else None,
            stop_markup=STOP, continue_markup=CONTINUE, rich=self.rich,
            on_drafts_refused=lambda: self.refused.append(chat_id),
        )  # fmt: skip
        return AnswerView(Outbox(self.bot, Target(chat_id), self.pacers), parts)

    @property
    def names(self) -> list[str]:
        return [n for n in self.bot.mocked.names() if n != "SendChatAction"]


def _reply(text: str, outcome: Outcome = "complete", reasoning: str = "") -> Reply:
    return Reply(text, reasoning, outcome, Usage(1, 1), usage_estimated=False)


async def _stream(view: AnswerView, words: list[str], gap: float = 0.05) -> str:
    await view.started()
    text = ""
    for word in words:
        text += word
        view.update(text, "")
        await asyncio.sleep(gap)
    return text


async def test_edits_stream_with_stop_then_the_final_edit_drops_it() -> None:
    h = Harness()
    view = h.view(GROUP)
    text = await _stream(view, ["Hello", " there", " friend"])
    await view.finish(_reply(text))
    sends, edits = h.bot.mocked.of(SendMessage), h.bot.mocked.of(EditMessageText)
    assert len(sends) == 1 and sends[0].method.reply_markup == STOP
    final = edits[-1].method
    assert isinstance(final, EditMessageText)
    assert (final.text, final.reply_markup) == ("Hello there friend", None)
    assert h.bot.mocked.of(SendChatAction), "typing shown before the first text"


async def test_a_cut_answer_ends_with_its_note_and_the_continue_button() -> None:
    h = Harness()
    view = h.view(GROUP)
    text = await _stream(view, ["Half an answer"])
    await view.finish(_reply(text, "length"))
    final = h.bot.mocked.of(EditMessageText)[-1].method
    assert isinstance(final, EditMessageText)
    assert (final.text, final.reply_markup) == ("Half an answer\n\n(cut)", CONTINUE)


async def test_drafts_then_one_final_message() -> None:
    h = Harness()
    view = h.view()
    text = await _stream(view, ["Hello", " world"])
    await view.finish(_reply(text))
    assert h.names[0] == "SendMessageDraft"  # the "Thinking…" placeholder
    assert h.names[-1] == "SendMessage" and h.names.count("SendMessage") == 1
    drafted = [s.method.text for s in h.bot.mocked.of(SendMessageDraft)]
    assert "Hello world" in drafted


async def test_a_long_answer_is_split_and_finished_pieces_are_sent_while_streaming() -> None:
    h = Harness()
    view = h.view(limit=400)
    words = [f"Sentence number {n} of a long answer.\n\n" for n in range(20)]
    text = await _stream(view, words, gap=0.02)
    await view.finish(_reply(text))
    sent = [s.method.text or "" for s in h.bot.mocked.of(SendMessage)]
    assert len(sent) >= 2
    assert all(len(piece) <= 400 for piece in sent)
    assert " ".join(sent).split() == text.split()


async def test_refused_drafts_move_the_answer_to_edits_and_the_chat_is_remembered() -> None:
    h = Harness()
    h.bot.mocked.add_error(400, "Bad Request: TEXTDRAFT_PEER_INVALID", method=SendMessageDraft)
    view = h.view()
    text = await _stream(view, ["Hello", " world"])
    await view.finish(_reply(text))
    assert h.refused == [PRIVATE]
    assert h.names.count("SendMessageDraft") == 1
    assert h.bot.mocked.of(SendMessage)[0].method.reply_markup == STOP
    final = h.bot.mocked.of(EditMessageText)[-1].method
    assert isinstance(final, EditMessageText) and final.text == "Hello world"


async def test_entities_refused_are_resent_as_plain_text() -> None:
    h = Harness()
    h.bot.mocked.add_error(400, "Bad Request: can't parse entities: x", method=SendMessage)
    view = h.view()
    await view.started()
    await view.finish(_reply("**bold** answer"))
    first, second = (s.method for s in h.bot.mocked.of(SendMessage))
    assert isinstance(first, SendMessage) and isinstance(second, SendMessage)
    assert first.entities and not second.entities
    assert second.text == "bold answer"


async def test_a_failure_replaces_the_answer_or_follows_it() -> None:
    h = Harness()
    view = h.view(GROUP)
    await _stream(view, ["Partial"])
    await view.fail("It broke")
    final = h.bot.mocked.of(EditMessageText)[-1].method
    assert isinstance(final, EditMessageText) and final.text == "It broke"
    after = Harness()
    view = after.view(GROUP)
    await view.started()
    await view.finish(_reply("Done"))
    await view.fail("Not saved")
    assert [s.method.text for s in after.bot.mocked.of(SendMessage)] == ["Done", "Not saved"]


async def test_rich_drafts_then_a_rich_message() -> None:
    h = Harness(rich=RichSwitch(messages=True, drafts=True))
    view = h.view()
    text = await _stream(view, ["**Rich**", " answer"])
    await view.finish(_reply(text, reasoning="I thought."))
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
    view = h.view()
    await view.started()
    await view.finish(_reply("An *answer*"))
    assert [s.method.text for s in h.bot.mocked.of(SendMessage)] == ["An answer"]
    assert h.rich.messages, "refused content does not turn rich messages off"


async def test_a_server_without_rich_methods_turns_rich_off_and_drafts_as_text() -> None:
    h = Harness(rich=RichSwitch(messages=True, drafts=True))
    h.bot.mocked.add_error(404, "Not Found: method not found", method=SendRichMessageDraft)
    view = h.view()
    text = await _stream(view, ["Plain", " now"])
    await view.finish(_reply(text))
    assert not h.rich.messages and not h.rich.drafts
    assert h.names.count("SendRichMessageDraft") == 1
    assert "SendMessageDraft" in h.names
    assert [s.method.text for s in h.bot.mocked.of(SendMessage)] == ["Plain now"]
    assert not h.bot.mocked.of(DeleteMessage)


async def test_refused_drafts_of_rich_content_go_to_edits_and_the_chat_is_remembered() -> None:
    h = Harness(rich=RichSwitch(messages=True, drafts=True))
    h.bot.mocked.add_error(400, "Bad Request: TEXTDRAFT_PEER_INVALID", method=SendRichMessageDraft)
    view = h.view()
    text = await _stream(view, ["Hello", " world"])
    await view.finish(_reply(text))
    assert h.refused == [PRIVATE]
    assert h.names.count("SendRichMessageDraft") == 1 and "SendMessageDraft" not in h.names
    assert h.bot.mocked.of(SendMessage)[0].method.reply_markup == STOP
    (final,) = (s.method for s in h.bot.mocked.of(EditMessageText) if s.method.rich_message)
    assert isinstance(final, EditMessageText) and final.rich_message is not None
    assert final.rich_message.markdown == "Hello world"
    assert h.rich.messages, "drafts refused in one chat leave rich messages on"


async def test_a_refused_rich_draft_streams_on_as_text_drafts_then_a_rich_message() -> None:
    h = Harness(rich=RichSwitch(messages=True, drafts=True))
    view = h.view()
    await view.started()
    await asyncio.sleep(0.05)  # the thinking block is shown
    h.bot.mocked.add_error(400, "Bad Request: RICH_MESSAGE_INVALID", method=SendRichMessageDraft)
    text = await _stream(view, ["Hello", " world"])
    await view.finish(_reply(text))
    assert h.names.count("SendRichMessageDraft") == 2
    assert "Hello world" in [s.method.text for s in h.bot.mocked.of(SendMessageDraft)]
    (final,) = (s.method for s in h.bot.mocked.of(SendRichMessage))
    assert isinstance(final, SendRichMessage) and final.rich_message.markdown == "Hello world"
    assert not h.refused and h.rich.messages and h.rich.drafts


@pytest.mark.parametrize("rich", [False, True], ids=["text", "rich"])
async def test_an_idle_draft_is_shown_again_at_the_cadences_keepalive(rich: bool) -> None:
    h = Harness(rich=RichSwitch(rich, rich), cadence=replace(FAST, draft_keepalive=0.1))
    view = h.view()
    await view.started()
    view.update("Hello", "")
    await asyncio.sleep(0.5)  # the model stalls: Telegram would drop the draft
    await view.finish(_reply("Hello"))
    kind = SendRichMessageDraft if rich else SendMessageDraft
    drafts = [s.method for s in h.bot.mocked.of(kind)]
    shown = [d for d in drafts if getattr(d, "text", None) == "Hello" or _markdown(d) == "Hello"]
    assert len(shown) >= 2


def _markdown(method: object) -> str | None:
    rich = getattr(method, "rich_message", None)
    return getattr(rich, "markdown", None)
