"""The answer view when a live update fails: the final answer still goes, and closing stays quiet."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.methods import SendMessage, SendMessageDraft

from bot.core.models import Reply, Usage
from bot.telegram.bot_api import ApiCounters, CallPolicy
from bot.telegram.pacing import Pacers, Rate
from bot.telegram.streaming import AnswerParts, AnswerView, Layout, Outbox, RichSwitch, Target
from tests.telegram.mocked_bot import MockedBot, cadence

FREE = Rate(0.001, 30)


async def test_a_failed_live_update_does_not_lose_the_answer_or_break_closing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = MockedBot()
    pacers = Pacers(cadence(FREE, FREE))
    bot.session.middleware(CallPolicy(pacers, ApiCounters()))
    parts = AnswerParts(
        layout=Layout(4096, show_reasoning=False, notes={}), draft_id=5, stop_markup=None,
        continue_markup=None, rich=RichSwitch(messages=False, drafts=False),
        on_drafts_refused=lambda: None,
    )  # fmt: skip
    view = AnswerView(Outbox(bot, Target(1001), pacers), parts)
    await view.started()
    await asyncio.sleep(0)
    assert bot.mocked.names() == ["SendMessageDraft"]  # the "Thinking…" draft went
    bot.mocked.add_exception(RuntimeError("live update broke"), method=SendMessageDraft)
    view.update("Hello", "")
    for _ in range(5):  # let the sender loop paint (and fail)
        await asyncio.sleep(0)
    await view.finish(Reply("Hello world", "", "complete", Usage(1, 2), usage_estimated=False))
    await view.close()  # the caller's cleanup closes again: it must not raise
    assert [s.method.text for s in bot.mocked.of(SendMessage)] == ["Hello world"]
    assert bot.mocked.names().count("SendMessageDraft") == 2, "the live view stopped"
    assert "live update broke" not in caplog.text  # logged by type: the text may be the answer's
    assert "RuntimeError" in caplog.text
