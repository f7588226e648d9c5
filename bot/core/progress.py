"""A turn's state: what its rounds have generated and spent so far.

The rounds report what happens (a stream event, a round begun or ended, the tools run, the size
cap reached) and `Progress` folds it: it is the only writer of its fields.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.core.budget import estimate_tokens
from bot.core.models import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallsRequested,
    Usage,
    UsageReport,
)
from bot.formatting.reasoning import ThinkSplitter

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Progress:
    """What a turn has generated so far, across its rounds."""

    content_at: float  # when text or reasoning last came (the idle timeout's clock)
    text: str = ""
    reasoning: str = ""
    finish: str | None = None
    rounds: int = 0
    spent: Usage = field(default_factory=Usage)  # closed rounds
    estimated: bool = False  # a closed round had no usage report
    round_from: int = 0  # where the current round's text starts in `text`
    calls: tuple[ToolCall, ...] = ()  # the calls the current round ended with
    _usage: Usage | None = None  # reported for the current round
    _joiner: str = ""  # put before the round's first text (rounds after a tool round)
    _reasoning_from: int = 0  # where the current round's reasoning starts in `reasoning`
    _prompt: int = 0  # the current round's prompt estimate
    _open: bool = False
    _splitter: ThinkSplitter = field(default_factory=ThinkSplitter)

    def begin(self, prompt: int) -> None:
        """A round starts, with `prompt` tokens estimated."""
        self._open, self._usage, self._prompt, self.calls = True, None, prompt, ()
        self._splitter = ThinkSplitter()
        self._reasoning_from = len(self.reasoning)
        self._joiner = "\n\n" if self.text else ""
        self.round_from = len(self.text)

    def fold(self, event: StreamEvent) -> bool:
        """Fold one event of the round's stream; True when the text or the reasoning changed."""
        changed = False
        if isinstance(event, TextDelta):
            changed = self._add(*self._splitter.feed(event.text))
        elif isinstance(event, ReasoningDelta):
            changed = self._add("", event.text)
        elif isinstance(event, UsageReport):
            self._usage = event.usage
        elif isinstance(event, Finished):
            self.finish = event.reason
        elif isinstance(event, ToolCallsRequested):
            self.calls = event.calls
            self.content_at = time.monotonic()
        if changed:
            self.content_at = time.monotonic()
        return changed

    def flush(self) -> None:
        """The round's stream ended: what the think-splitter kept back joins the text."""
        self._add(*self._splitter.flush())
        # Leading whitespace is kept: a continuation may start with a space or a newline.
        self.text = self.text.rstrip()
        self.reasoning = self.reasoning.strip()

    def capped(self, chars: int) -> bool:
        """Whether the upstream went past `chars` characters: then that much is kept and the
        answer ends as "length"."""
        if len(self.text) + len(self.reasoning) <= chars:
            return False
        log.warning("answer over its size bound chars=%d", len(self.text) + len(self.reasoning))
        self.reasoning = self.reasoning[:chars]
        self.text = self.text[: max(chars - len(self.reasoning), 0)]
        self.round_from = min(self.round_from, len(self.text))
        self.finish = "length"
        return True

    def close(self, ratio: float) -> tuple[int, Usage] | None:
        """Count the round that just ended: its reported usage, else an estimate (the prompt's
        scaled by `ratio`). Returns the first round's prompt estimate and reported usage (the
        calibration's sample), else None."""
        if not self._open:
            return None
        self._open = False
        self.rounds += 1
        usage = self._usage
        if usage is not None:
            self.spent += usage
            # Later rounds' prompts hold tool results, not history: only the first calibrates.
            return (self._prompt, usage) if self.rounds == 1 else None
        completion = estimate_tokens(self.text[self.round_from :]) + estimate_tokens(
            self.reasoning[self._reasoning_from :]
        )
        calls = sum(estimate_tokens(c.name + c.arguments) for c in self.calls)
        self.spent += Usage(round(self._prompt * ratio), completion + calls)
        self.estimated = True
        return None

    def hand_to_tools(self) -> str:
        """The round's calls are to run: returns the round's own text (it belongs to the
        calls' message, not to the answer)."""
        said = self.text[self.round_from :].strip()
        self.round_from = len(self.text)
        return said

    def tools_ran(self) -> None:
        """A tool's results are progress: the idle bound waits for the next round from here."""
        self.content_at = time.monotonic()

    def _add(self, answer: str, thought: str) -> bool:
        if answer and self._joiner:
            self.text += self._joiner
            self.round_from = len(self.text)
            self._joiner = ""
        self.text += answer
        self.reasoning += thought
        return bool(answer or thought)
