"""One answer, from the resolved model to how it ended, with in-memory ports."""

from __future__ import annotations

from typing import Any

from bot.adapters.memory_signals import LocalSignals
from bot.core.access import Verdict
from bot.core.errors import ModelUnavailable
from bot.core.inputs import Image, image_question
from bot.core.model_choice import ModelResolver
from bot.core.monitor import Monitor
from bot.telegram.answering import Answering
from bot.telegram.runtime.running import Running
from bot.telegram.turn import Turn
from tests.fakes import ScriptedGateway, make_turns
from tests.telegram.helpers import ALICE, GROUP, Notes
from tests.unit.test_model_choice import Catalog, Store

TURN = Turn(GROUP, False, None, ALICE, "en", reply_to=5)


class LetIn:
    async def admit(self, turn: Turn) -> Verdict:
        return Verdict(None)


def _answering(
    gateway: ScriptedGateway,
    models: ModelResolver,
    running: Running | None = None,
    vision_models: tuple[str, ...] | None = None,
) -> tuple[Answering, Notes, Any]:
    turns = make_turns(gateway, models=models, vision_models=vision_models)
    running, notes = running or Running(), Notes()
    monitor = Monitor()
    answering = Answering(
        None,  # type: ignore[arg-type]  # Telegram is only asked about private topics
        turns, LetIn(), notes, running, LocalSignals(), monitor,  # type: ignore[arg-type]
    )  # fmt: skip
    return answering, notes, monitor


async def test_a_model_gone_is_replaced_once_and_the_user_told() -> None:
    gateway = ScriptedGateway(ModelUnavailable("404"), "From b.")
    answering, notes, monitor = _answering(
        gateway, ModelResolver(Catalog(["a", "b"]), Store(), "a")
    )
    await answering.answer(TURN, "hi")
    assert [model for model, _ in gateway.calls] == ["a", "b"]
    assert [text for _, text in notes.said] == [
        "ℹ️ The model a is not available right now, so b answers instead."
    ]
    assert notes.sinks[0].finished is not None and notes.sinks[0].finished.text == "From b."
    assert monitor.totals("replies") == {"complete": 1}


async def test_a_replacement_that_cannot_see_images_gets_the_text_form() -> None:
    gateway = ScriptedGateway(ModelUnavailable("404"), "From the caption.")
    models = ModelResolver(Catalog(["a", "b"]), Store(), "a")
    answering, _, _ = _answering(gateway, models, vision_models=("a",))
    image = Image("data:image/jpeg;base64,/9j/", 800, 600)
    blind = "[The user sent a photo; you cannot see it.]\nwhat is it?"
    await answering.answer(TURN, image_question("what is it?", "photo", [image], blind=blind))
    (_, first), (_, second) = gateway.calls
    assert first[-1]["content"][1]["type"] == "image_url"
    assert second[-1]["content"] == blind


async def test_when_no_other_model_is_left_the_user_is_told_why() -> None:
    gateway = ScriptedGateway(ModelUnavailable("404"))
    answering, notes, monitor = _answering(gateway, ModelResolver(Catalog(["a"]), Store(), "a"))
    await answering.answer(TURN, "hi")
    assert [model for model, _ in gateway.calls] == ["a"]
    assert notes.sinks[0].failed and notes.sinks[0].closed
    assert monitor.totals("turn_errors") == {}  # upstream errors are counted by the monitor


async def test_an_answer_cut_by_length_can_be_continued_once() -> None:
    gateway = ScriptedGateway("The first half", finish="length")
    answering, notes, _ = _answering(gateway, ModelResolver(Catalog(["a"]), Store(), "a"))
    await answering.answer(TURN, "story")
    cut = notes.generations[0].id
    assert not await answering.take_continuable(TURN, "forged")
    assert await answering.take_continuable(TURN, cut)
    assert not await answering.take_continuable(TURN, cut)  # one press continues it


async def test_after_the_shutdown_grace_a_queued_question_is_not_lost_in_silence() -> None:
    running = Running()
    running.closing = True
    gateway = ScriptedGateway("never")
    answering, notes, _ = _answering(gateway, ModelResolver(Catalog(["a"]), Store(), "a"), running)
    await answering.answer(TURN, "hi")
    assert gateway.calls == [] and notes.sinks == []
    assert [text for _, text in notes.said] == [
        "⏳ I am restarting. Please send that again in a minute."
    ]
