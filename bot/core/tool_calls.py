"""Assembling the model's tool calls from stream deltas or from one emulated chat.completion."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import AnswerOversize
from bot.core.models import ToolCall


@dataclass(slots=True)
class _Pending:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)  # fragments, joined once at the end


class ToolCallAssembler:
    """Collects the calls of one round.

    Streams send `delta.tool_calls` entries keyed by `index`: the id and name usually in the
    first, the arguments as JSON fragments in the next ones, several calls interleaved. Servers
    differ: some repeat the id or name in every fragment, omit `index`, or send the arguments as
    an object; all are accepted. A proxy emulating tools sends one `message.tool_calls` instead.
    `finish()` returns the round's calls in index order and starts a new round.

    `max_chars` (0: none) bounds the names and arguments of a round together: past it the
    fragment that crossed it raises AnswerOversize, and nothing of the round is kept.
    """

    def __init__(self, max_chars: int = 0) -> None:
        self._calls: dict[int, _Pending] = {}
        self._last: int | None = None
        self._max_chars = max_chars
        self._chars = 0

    @property
    def pending(self) -> bool:
        """Whether any call fragment arrived in this round."""
        return bool(self._calls)

    def feed(self, entries: object) -> None:
        """One `delta.tool_calls` list of a stream chunk (anything else is ignored)."""
        if not isinstance(entries, list):
            return
        for entry in entries:
            if isinstance(entry, Mapping):
                self._feed_one(entry)

    def feed_message(self, message: Mapping[str, Any]) -> None:
        """A whole `message` (emulated non-stream answer): each entry is a complete call."""
        entries = message.get("tool_calls")
        if not isinstance(entries, list):
            return
        base = len(self._calls)
        for position, entry in enumerate(entries):
            if isinstance(entry, Mapping):
                self._feed_one(entry, index=base + position)

    def finish(self) -> tuple[ToolCall, ...]:
        """The calls of the round, complete, in index order; resets for the next round."""
        calls = tuple(
            ToolCall(
                id=pending.id or f"call_{uuid.uuid4().hex[:24]}",
                name=pending.name,
                arguments="".join(pending.arguments) or "{}",
            )
            for _, pending in sorted(self._calls.items())
        )
        self._calls.clear()
        self._last = None
        self._chars = 0
        return calls

    def _feed_one(self, entry: Mapping[str, Any], index: int | None = None) -> None:
        if index is None:
            index = self._index_of(entry)
        pending = self._calls.setdefault(index, _Pending())
        self._last = index
        call_id = entry.get("id")
        if isinstance(call_id, str) and call_id and not pending.id:
            pending.id = call_id
        function = entry.get("function")
        if not isinstance(function, Mapping):
            return
        name = function.get("name")
        if isinstance(name, str) and name and name != pending.name:
            # Whole names are sent once or repeated; a name sent in pieces is joined.
            pending.name = name if name.startswith(pending.name) else pending.name + name
            self._count(len(name))
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):
            arguments = json.dumps(arguments, ensure_ascii=False)
        if isinstance(arguments, str) and arguments:
            self._count(len(arguments))
            pending.arguments.append(arguments)

    def _count(self, chars: int) -> None:
        self._chars += chars
        if self._max_chars and self._chars > self._max_chars:
            self._calls.clear()
            self._last = None
            raise AnswerOversize(f"tool call arguments over {self._max_chars} characters")

    def _index_of(self, entry: Mapping[str, Any]) -> int:
        index = entry.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        # No index: a new id starts a new call, anything else continues the last one.
        call_id = entry.get("id")
        last = self._calls.get(self._last) if self._last is not None else None
        if last is not None and (not call_id or call_id == last.id):
            return self._last if self._last is not None else 0
        return max(self._calls, default=-1) + 1
