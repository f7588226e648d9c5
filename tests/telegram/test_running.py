"""The registry of what runs: a shutdown lets updates finish, interrupts answers at the end of
the grace, and cancels only what is left."""

from __future__ import annotations

import asyncio

from bot.telegram.runtime.running import Running


async def test_updates_that_finish_within_the_grace_are_left_alone() -> None:
    running = Running()
    task = asyncio.create_task(asyncio.sleep(0.05))
    running.hold(task)
    await running.finish(grace=1)
    assert task.done() and not task.cancelled()
    assert not running.closing


async def test_at_grace_end_answers_are_shut_down_and_the_rest_cancelled() -> None:
    running = Running()
    generation = running.start(chat_id=5, user_id=5)
    ended: list[str] = []

    async def answer() -> None:  # ends soon after its stop, as ConversationService does
        await generation.stop.wait()
        ended.append(generation.stop.outcome)
        running.end(generation)

    answering = asyncio.create_task(answer())
    stuck = asyncio.create_task(asyncio.sleep(60))
    running.hold(answering)
    running.hold(stuck)
    await running.finish(grace=0.05)
    assert ended == ["shut_down"] and not answering.cancelled()
    assert running.closing  # what was queued behind them does not start a new answer
    assert stuck.cancelled()
    assert running.active == 0 and running.answers() == []


async def test_a_stopped_answer_stays_stopped() -> None:
    running = Running()
    generation = running.start(chat_id=5, user_id=5)
    generation.stop.set()
    generation.stop.shut_down()
    assert generation.stop.outcome == "stopped"
    assert running.get(generation.id) is generation
    assert running.by_draft(5, generation.draft_id) is generation
