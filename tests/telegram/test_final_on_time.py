"""Issue 14: the final message goes out as soon as the stream ends, whatever its shape."""

from __future__ import annotations

import asyncio
import time

from aiogram.methods import SendMessage, SendMessageDraft

from bot.core.models import Reply, Usage
from bot.telegram.delivery import ApiCounters, Delivery, Target
from bot.telegram.pacing import Pacer, Rate
from bot.telegram.sink import SinkOptions, TelegramSink
from tests.telegram.mocked_bot import MockedBot

CHAT = 1001
DRAFT_PACE = 1.0  # Telegram's draft pace is about one a second


def _reply(text: str) -> Reply:
    return Reply(text, "", "complete", Usage(1, 1), usage_estimated=False)


def _sink(bot: MockedBot) -> TelegramSink:
    delivery = Delivery(
        bot, Target(CHAT), Pacer(Rate(0.05, 5)), Pacer(Rate(DRAFT_PACE, 2)), Pacer(Rate(0.01, 3)),
        ApiCounters(),
    )  # fmt: skip
    options = SinkOptions(
        mode="draft", limit=4096, show_reasoning=False, draft_id=7, stop_markup=None,
        continue_markup=None, notes={"empty": "(empty)"},
    )  # fmt: skip
    return TelegramSink(delivery, options, lambda: None)


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
