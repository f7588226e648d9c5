"""/export: a conversation's history as Markdown, in the user's language (the labels are given),
with the model and date of each answer and tool calls in short form; reasoning is never stored,
so never exported."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.models import ChatMessage, ToolCall

MAX_ARGUMENTS = 80  # a tool call's arguments shown at most


@dataclass(frozen=True, slots=True)
class ExportLabels:
    """The export's words in the user's language."""

    title: str
    user: str
    assistant: str
    tool: str
    empty: str


def export_markdown(history: Sequence[ChatMessage], labels: ExportLabels) -> str:
    """The history as a Markdown document; tool results are left out (the calls are named)."""
    lines = [f"# {labels.title}", ""]
    if not history:
        lines.append(labels.empty)
    for message in history:
        if message.role == "user":
            lines += [f"## {labels.user}", "", message.content, ""]
        elif message.role == "assistant" and message.tool_calls:
            calls = ", ".join(_call(call) for call in message.tool_calls)
            lines += [f"*{labels.tool}: {calls}*", ""]
        elif message.role == "assistant":
            lines += [f"## {labels.assistant}{_signature(message)}", "", message.content, ""]
    return "\n".join(lines).rstrip() + "\n"


def _signature(message: ChatMessage) -> str:
    if not message.model:
        return ""
    when = datetime.fromtimestamp(message.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f" ({message.model}, {when})"


def _call(call: ToolCall) -> str:
    try:
        arguments = json.dumps(json.loads(call.arguments), ensure_ascii=False)
    except ValueError:
        arguments = call.arguments
    if len(arguments) > MAX_ARGUMENTS:
        arguments = arguments[: MAX_ARGUMENTS - 1] + "…"
    return f"`{call.name}({arguments})`"
