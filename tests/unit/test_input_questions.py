"""Questions whose upstream form differs from what history keeps: documents and images."""

from __future__ import annotations

from bot.core.budget import message_tokens
from bot.core.documents import NO_QUESTION, DocumentText, prepare_documents
from bot.core.inputs import BurstLimiter, Image, image_question, image_tokens, text_question
from bot.core.models import ChatKey
from bot.core.stop import StopSignal
from tests.fakes import RecordingSink, ScriptedGateway, ask
from tests.unit.test_conversation import _service

CHAT = ChatKey(42)
URL = "data:image/jpeg;base64,/9j/AAAA"


async def test_a_question_sends_one_form_and_keeps_the_other() -> None:
    gateway = ScriptedGateway("Seen.", "Again.")
    service, history, _ = _service(gateway)
    asked = image_question(
        "what is it?", "[The user sent a photo.]\nwhat is it?", [Image(URL, 800, 600)]
    )
    await ask(service, CHAT, 7, asked, "m", RecordingSink(), StopSignal())
    sent = gateway.calls[0][1][-1]["content"]
    assert sent == [
        {"type": "text", "text": "what is it?"},
        {"type": "image_url", "image_url": {"url": URL}},
    ]
    stored = await history.load(CHAT)
    assert stored[0].content == "[The user sent a photo.]\nwhat is it?" and not stored[0].parts
    await ask(service, CHAT, 7, "and now?", "m", RecordingSink(), StopSignal())
    again = gateway.calls[1][1]
    assert again[1]["content"] == "[The user sent a photo.]\nwhat is it?"  # no image any more


def test_an_image_question_counts_its_image() -> None:
    asked = image_question("hi", "hi", [Image(URL, 1280, 960), Image(URL, 90, 67)])
    expected = message_tokens("user", "hi") + image_tokens(1280, 960) + image_tokens(90, 67)
    assert asked.sent.tokens == expected and asked.kept.tokens == message_tokens("user", "hi")
    plain = text_question("long text", "short")
    assert plain.sent.content == "long text" and plain.kept.content == "short"


def test_several_documents_share_the_budget_and_ask_once() -> None:
    one = DocumentText("a.txt", "text", "alpha " * 2000, 12000)
    two = DocumentText("b.txt", "text", "The unique phrase is beta-7.", 30)
    turn = prepare_documents([one, two], "compare them", 600, 200)
    assert turn.content.count("<document>") == 2 and turn.content.endswith("\n\ncompare them")
    assert turn.content.count("compare them") == 1 and NO_QUESTION not in turn.content
    assert "beta-7" in turn.content and "beta-7" in turn.history
    assert [key for key, _ in turn.notices] == ["doc_truncated"]  # only the long one is cut
    assert len(turn.history) < len(turn.content)
    alone = prepare_documents([two], "", 600, 200)
    assert alone.content.endswith(NO_QUESTION)


def test_the_burst_limiter_answers_once_per_window_per_key() -> None:
    now = [0.0]
    burst = BurstLimiter(10.0, lambda: now[0])
    assert burst.allow("sticker") and not burst.allow("sticker") and burst.allow("voice")
    now[0] = 10.0
    assert burst.allow("sticker")
