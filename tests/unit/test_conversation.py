"""The turn use case with in-memory ports: what a turn stores and counts, however it ends."""

from __future__ import annotations

import asyncio

from bot.core.model_choice import ModelChoice
from bot.core.models import ChatKey
from bot.core.monitor import Monitor
from bot.core.stop import StopSignal
from bot.core.turns import Ask, TurnRequest, Turns
from tests.fakes import (
    MemoryHistory,
    MemoryUsage,
    RecordingSink,
    ScriptedGateway,
    ask,
    go_on,
    make_turns,
)

CHAT = ChatKey(42)


def _service(gateway: ScriptedGateway, monitor: Monitor | None = None) -> tuple[
    Turns, MemoryHistory, MemoryUsage
]:  # fmt: skip
    history, usage = MemoryHistory(), MemoryUsage()
    return make_turns(gateway, history, usage, monitor=monitor), history, usage


async def _untold(choice: ModelChoice) -> None:
    raise AssertionError(f"no replacement expected, got {choice}")


async def test_a_turn_is_stored_and_counted_once() -> None:
    monitor = Monitor()
    service, history, usage = _service(ScriptedGateway("Hello there."), monitor)
    sink = RecordingSink()
    reply = await ask(service, CHAT, 7, "hi", "m", sink, StopSignal())
    assert reply.outcome == "complete" and reply.text == "Hello there."
    assert sink.finished == reply
    assert [(m.role, m.content) for m in await history.load(CHAT)] == [
        ("user", "hi"),
        ("assistant", "Hello there."),
    ]
    assert [(c.user_id, c.model, c.usage.completion_tokens) for c in usage.added] == [(7, "m", 2)]
    # one measurement, two readers: /stats' window and /metrics' histogram
    assert monitor.snapshot().samples == 1
    assert (
        monitor.durations["upstream_first_token_seconds"]["m"].counts[-1]
        + sum(monitor.durations["upstream_first_token_seconds"]["m"].counts[:-1])
        == 1
    )


async def test_an_answer_cut_by_a_shutdown_keeps_its_partial_text_and_usage() -> None:
    service, history, usage = _service(ScriptedGateway("word " * 200, delay=0.005))
    sink, stop = RecordingSink(), StopSignal()
    task = asyncio.create_task(ask(service, CHAT, 7, "talk", "m", sink, stop))
    await sink.first_text.wait()
    await asyncio.sleep(0.02)
    stop.shut_down()  # the shutdown's grace is over
    reply = await task
    assert reply.outcome == "shut_down" and reply.text.startswith("word word")
    assert (await history.load(CHAT))[-1].content == reply.text
    assert len(usage.added) == 1 and usage.added[0].usage.completion_tokens > 0


async def test_the_users_stop_marks_the_answer_stopped() -> None:
    service, _, _ = _service(ScriptedGateway("word " * 200, delay=0.005))
    sink, stop = RecordingSink(), StopSignal()
    task = asyncio.create_task(ask(service, CHAT, 7, "talk", "m", sink, stop))
    await sink.first_text.wait()
    stop.set()
    stop.shut_down()  # too late: it was stopped by the user first
    assert (await task).outcome == "stopped"


async def test_continue_extends_the_last_answer_in_history() -> None:
    service, history, _ = _service(ScriptedGateway("The first half", "and the rest."))
    await ask(service, CHAT, 7, "story", "m", RecordingSink(), StopSignal())
    reply = await go_on(service, CHAT, 7, "m", RecordingSink(), StopSignal())
    assert reply is not None
    assert [m.content for m in await history.load(CHAT)] == [
        "story",
        "The first halfand the rest.",
    ]


async def test_nothing_to_continue_without_an_answer() -> None:
    service, _, usage = _service(ScriptedGateway())
    assert await go_on(service, CHAT, 7, "m", RecordingSink(), StopSignal()) is None
    assert usage.added == []


async def test_a_private_topics_first_question_names_it_without_reading_its_history() -> None:
    service, history, _ = _service(ScriptedGateway("Hello there.", "Again."))
    request = TurnRequest(CHAT, 7, "en", Ask("hi"), topic_words="Trip to Rome")
    first = await service.run(request, RecordingSink(), StopSignal(), _untold)
    assert first.title == "Trip to Rome" and first.model == "m" and first.reply is not None
    loads = history.loads
    second = await service.run(request, RecordingSink(), StopSignal(), _untold)
    assert second.title is None and second.reply is not None
    assert history.loads == loads + 1  # the turn's own load: the check costs no history read
