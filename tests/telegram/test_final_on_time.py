"""Issue 14: the final message goes out as soon as the stream ends, whatever its shape.

Telegram's real paces (about one draft or edit a second) are used: a final answer that waited
for the pace would be a second late."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram.methods import EditMessageText, SendMessage, SendRichMessage, TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.models import Reply, Usage
from bot.telegram.bot_api import ApiCounters, CallPolicy
from bot.telegram.pacing import Pacers, Rate
from bot.telegram.streaming import AnswerParts, AnswerView, Layout, Outbox, RichSwitch, Target
from tests.telegram.mocked_bot import MockedBot, cadence

PRIVATE, GROUP = 1001, -100500
PACE = Rate(1.0, 2)  # about one a second, two at once
STOP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Stop", callback_data="s")]]
)
# the live way: (chat, drafts, rich, the final call)
WAYS: dict[str, tuple[int, bool, bool, type[TelegramMethod[object]]]] = {
    "drafts": (PRIVATE, True, False, SendMessage),
    "edits": (GROUP, False, False, EditMessageText),
    "rich drafts": (PRIVATE, True, True, SendRichMessage),
}
SHAPES = {
    # A proxy buffered the answer: it all arrives at once.
    "burst": (["Hello", " world, this came", " in one burst."], 0.0),
    "steady": ([f"word{i} " for i in range(12)], 0.1),
}


def _reply(text: str) -> Reply:
    return Reply(text, "", "complete", Usage(1, 1), usage_estimated=False)


def _view(bot: MockedBot, chat_id: int, drafts: bool, rich: bool) -> AnswerView:
    pacers = Pacers(cadence(PACE, Rate(0.01, 3)))
    bot.session.middleware(CallPolicy(pacers, ApiCounters()))
    parts = AnswerParts(
        layout=Layout(4096, show_reasoning=False, notes={"empty": "(empty)"}),
        draft_id=7 if drafts else None, stop_markup=STOP, continue_markup=None,
        rich=RichSwitch(messages=rich, drafts=rich), on_drafts_refused=lambda: None,
    )  # fmt: skip
    return AnswerView(Outbox(bot, Target(chat_id), pacers), parts)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("way", WAYS)
async def test_the_final_message_goes_out_when_the_stream_ends(way: str, shape: str) -> None:
    chat_id, drafts, rich, final_call = WAYS[way]
    chunks, gap = SHAPES[shape]
    bot = MockedBot(latency=0.01)
    view = _view(bot, chat_id, drafts, rich)
    await view.started()
    text = ""
    for chunk in chunks:
        text += chunk
        view.update(text, "")
        if gap:
            await asyncio.sleep(gap)
    await asyncio.sleep(0.05)  # the last chunk is shown; the stream's end is in flight
    ended = time.monotonic()
    await view.finish(_reply(text))
    last = bot.mocked.requests[-1]
    assert isinstance(last.method, final_call)
    assert len(bot.mocked.requests) > 2, "the answer was shown while it streamed"
    delay = last.at - ended
    assert delay < 0.2, f"final message {delay:.2f} s after the stream ended"
