"""Issue 14: the final message goes out as soon as the stream ends, whatever its shape."""

from __future__ import annotations

import asyncio
import time

from aiogram.methods import SendMessage, SendMessageDraft

from bot.core.models import Reply, Usage
from bot.telegram.bot_api import ApiCounters, CallPolicy
from bot.telegram.pacing import Pacers, Rate
from bot.telegram.streaming import Layout, SinkParts, StreamSink, Target, build_sink
from bot.telegram.streaming.rich import RichSwitch
from tests.telegram.mocked_bot import MockedBot

CHAT = 1001
DRAFT_PACE = 1.0  # Telegram's draft pace is about one a second


def _reply(text: str) -> Reply:
    return Reply(text, "", "complete", Usage(1, 1), usage_estimated=False)


def _sink(bot: MockedBot) -> StreamSink:
    pacers = Pacers(
        {"private": Rate(0.05, 5), "group": Rate(0.05, 1), "draft": Rate(DRAFT_PACE, 2)},
        Rate(0.01, 3),
    )
    bot.session.middleware(CallPolicy(pacers, ApiCounters()))
    parts = SinkParts(
        layout=Layout(4096, show_reasoning=False, notes={"empty": "(empty)"}),
        draft_id=7, stop_markup=None, continue_markup=None,
        rich=RichSwitch(messages=False, drafts=False), on_drafts_refused=lambda: None,
    )  # fmt: skip
    return build_sink(bot, pacers, Target(CHAT), parts)


async def _finish_delay(bot: MockedBot, chunks: list[str], gap: float) -> float:
    sink = _sink(bot)
    await sink.started()
    text = ""
    for chunk in chunks:
        text += chunk
        sink.update(text, "")
        if gap:
            await asyncio.sleep(gap)
    await asyncio.sleep(0.05)  # the last chunk is drafted; the stream's end is in flight
    ended = time.monotonic()
    await sink.finish(_reply(text))
    return bot.mocked.of(SendMessage)[0].at - ended


async def test_final_message_right_after_a_burst() -> None:
    bot = MockedBot(latency=0.01)
    # The proxy buffered the answer: it all arrives at once.
    delay = await _finish_delay(bot, ["Hello", " world, this came", " in one burst."], 0)
    assert bot.mocked.of(SendMessageDraft), "the answer was drafted while it streamed"
    assert delay < 0.2, f"final message {delay:.2f} s after the stream ended"


async def test_final_message_right_after_a_steady_stream() -> None:
    bot = MockedBot(latency=0.01)
    delay = await _finish_delay(bot, [f"word{i} " for i in range(12)], 0.1)
    assert delay < 0.2, f"final message {delay:.2f} s after the stream ended"
