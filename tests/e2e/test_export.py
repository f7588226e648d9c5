"""/export end to end: the conversation as an uploaded Markdown file (sendDocument), in the
user's language, with each answer's model and date and tool calls in short form."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.export import ExportLabels, export_markdown
from bot.core.models import ChatMessage, ToolCall
from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import FAST, USER, EnvFactory


async def test_export_sends_the_conversation_as_a_markdown_file(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="Paris is the capital."))
        await env.telegram.send_text(USER, "Capital of France?", language_code="ru")
        await env.wait_replies(1)
        await env.telegram.send_text(USER, "/export", language_code="ru")
        await env.telegram.wait_for(lambda: env.telegram.uploads, 10)
        message_id, content = next(iter(env.telegram.uploads.items()))
        document = env.telegram.chat(USER).messages[message_id].media["document"]
        assert document["file_name"] == "razgovor.md"
        text = content.decode()
        model = env.gonka.requests[0]["model"]
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        assert text.startswith("# Разговор\n")
        assert "## Вы\n\nCapital of France?" in text
        assert f"## Ассистент ({model}, {today}" in text
        assert "Paris is the capital." in text


def test_tool_calls_are_short_and_results_left_out() -> None:
    labels = ExportLabels("Conversation", "You", "Assistant", "Tools", "Empty.")
    call = ToolCall("c1", "get_weather", '{"location": "' + "B" * 200 + '"}')
    history = [
        ChatMessage("user", "weather?", 3),
        ChatMessage("assistant", "", 5, tool_calls=(call,)),
        ChatMessage("tool", "SECRET RESULT BODY", 5, tool_call_id="c1"),
        ChatMessage("assistant", "Sunny.", 3, model="m1", at=0),
    ]
    text = export_markdown(history, labels)
    assert "*Tools: `get_weather(" in text and "…)`*" in text
    assert "SECRET RESULT BODY" not in text
    assert export_markdown([], labels) == "# Conversation\n\nEmpty.\n"
