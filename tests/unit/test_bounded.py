"""In-process memory per chat is bounded: a bot seen by a million chats does not keep a million
entries of each."""

from __future__ import annotations

from bot.core.bounded import Recent
from bot.core.model_choice import ModelResolver
from bot.telegram.generations import Generations
from bot.telegram.responder import Responder, ResponderOptions


def test_recent_forgets_the_oldest() -> None:
    recent: Recent[int, str] = Recent(3)
    for key in range(5):
        recent[key] = str(key)
    assert len(recent) == 3 and 0 not in recent and recent.get(4) == "4"
    recent[2] = "again"  # the newest now
    recent[5] = "5"
    assert 2 in recent and 3 not in recent


def test_continuable_answers_are_bounded() -> None:
    generations = Generations()
    for chat_id in range(30_000):
        generations.end(generations.start(chat_id, 1), continuable=True)
    assert len(generations._continuable) <= 10_000
    last = generations.start(42_000, 1)
    generations.end(last, continuable=True)
    assert generations.take_continuable(42_000, last.id)


def test_fallback_notices_are_bounded() -> None:
    resolver = ModelResolver(None, None, "m")  # type: ignore[arg-type]
    for chat_id in range(30_000):
        resolver._told.add((chat_id, "gone"))
    assert len(resolver._told) <= 10_000


def test_chats_without_drafts_are_bounded() -> None:
    options = ResponderOptions(use_drafts=True, show_reasoning=False, message_limit=4096)
    responder = Responder(None, None, None, None, None, options, None, None)  # type: ignore[arg-type]
    for chat_id in range(30_000):
        responder._no_drafts.add(chat_id)
    assert len(responder._no_drafts) <= 10_000
