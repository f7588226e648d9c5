"""One upstream round: a streamed request folded into the turn's progress, then counted.

The events of one request (text, reasoning, usage, finish, tool calls) are folded into
`Progress`; the sink gets every change of text or reasoning; the size cap ends the round as
"length". When the round ends, its usage is counted: the reported one, else an estimate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.budget import TokenCalibration, estimate_tokens
from bot.core.errors import UpstreamError
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
from bot.core.monitor import UpstreamMonitor
from bot.core.ports import AdminAlerts, LLMGateway, ReplySink
from bot.formatting.reasoning import ThinkSplitter

if TYPE_CHECKING:
    from bot.core.generation import Turn

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Progress:
    """What a turn has generated so far, across its rounds."""

    text: str = ""
    reasoning: str = ""
    usage: Usage | None = None  # reported for the current round
    finish: str | None = None
    content_at: float = 0.0  # when text or reasoning last came (the idle timeout's clock)
    calls: tuple[ToolCall, ...] = ()
    joiner: str = ""  # put before the round's first text (rounds after a tool round)
    round_from: int = 0  # where the current round's text starts in `text`
    reasoning_from: int = 0  # where the current round's reasoning starts in `reasoning`
    round_prompt: int = 0  # the current round's prompt estimate
    round_open: bool = False
    rounds: int = 0
    spent: Usage = field(default_factory=Usage)  # closed rounds
    estimated: bool = False  # a closed round had no usage report


class RoundStream:
    """Streams one upstream request into a turn's Progress and counts the round when it ends."""

    def __init__(
        self,
        gateway: LLMGateway,
        max_tokens: int,
        answer_chars: int,
        calibration: TokenCalibration,
        monitor: UpstreamMonitor | None,
        alerts: Callable[[], AdminAlerts | None],
    ) -> None:
        self._gateway = gateway
        self._max_tokens = max_tokens
        self._answer_chars = answer_chars
        self._calibration = calibration
        self._monitor = monitor
        self._alerts = alerts

    async def stream(
        self,
        turn: Turn,
        payload: list[dict[str, Any]],
        acc: Progress,
        sink: ReplySink,
        tools: list[dict[str, Any]] | None,
    ) -> None:
        """Stream one request into `acc`; the sink gets every change of text or reasoning."""
        splitter = ThinkSplitter()
        acc.round_open, acc.usage = True, None
        acc.reasoning_from = len(acc.reasoning)
        acc.joiner = "\n\n" if acc.text else ""
        acc.round_from = len(acc.text)
        started = time.monotonic()
        stream = self._gateway.stream(turn.model, payload, self._max_tokens, tools=tools)
        first = True
        try:
            async for event in stream:
                if first and self._monitor is not None:
                    self._monitor.first_token(time.monotonic() - started, turn.model)
                first = False
                if not self._apply(event, acc, splitter):
                    continue
                acc.content_at = time.monotonic()
                if len(acc.text) + len(acc.reasoning) > self._answer_chars:
                    self._cut(acc)
                    break
                sink.update(acc.text, acc.reasoning)
        except UpstreamError as exc:
            await self._upstream_failed(exc, turn.model)
            raise
        finally:
            answer, thought = splitter.flush()
            self._add(acc, answer, thought)
            # Leading whitespace is kept: a continuation may start with a space or a newline.
            acc.text = acc.text.rstrip()
            acc.reasoning = acc.reasoning.strip()
            await stream.aclose()

    def close(self, turn: Turn, acc: Progress) -> None:
        """Count the round that just ended: its reported usage, else an estimate."""
        if not acc.round_open:
            return
        acc.round_open = False
        acc.rounds += 1
        if acc.usage is not None:
            if acc.rounds == 1:  # later rounds' prompts hold tool results, not history
                self._calibration.observe(
                    turn.model, turn.chat.chat_id, acc.round_prompt, acc.usage.prompt_tokens
                )
            acc.spent += acc.usage
            return
        completion = estimate_tokens(acc.text[acc.round_from :]) + estimate_tokens(
            acc.reasoning[acc.reasoning_from :]
        )
        calls = sum(estimate_tokens(c.name + c.arguments) for c in acc.calls)
        acc.spent += Usage(round(acc.round_prompt * turn.ratio), completion + calls)
        acc.estimated = True

    def _apply(self, event: StreamEvent, acc: Progress, splitter: ThinkSplitter) -> bool:
        """Fold one event into `acc`; True when the text or the reasoning changed."""
        if isinstance(event, TextDelta):
            answer, thought = splitter.feed(event.text)
            return self._add(acc, answer, thought)
        if isinstance(event, ReasoningDelta):
            return self._add(acc, "", event.text)
        if isinstance(event, UsageReport):
            acc.usage = event.usage
        elif isinstance(event, Finished):
            acc.finish = event.reason
        elif isinstance(event, ToolCallsRequested):
            acc.calls = event.calls
            acc.content_at = time.monotonic()
        return False

    @staticmethod
    def _add(acc: Progress, answer: str, thought: str) -> bool:
        if answer and acc.joiner:
            acc.text += acc.joiner
            acc.round_from = len(acc.text)
            acc.joiner = ""
        acc.text += answer
        acc.reasoning += thought
        return bool(answer or thought)

    async def _upstream_failed(self, exc: UpstreamError, model: str) -> None:
        if self._monitor is not None:
            self._monitor.error(exc.kind, model)
        alerts = self._alerts() if exc.notified_key is not None else None
        if alerts is not None and await alerts.upstream_failed(exc.kind):
            exc.owner_notified()

    def _cut(self, acc: Progress) -> None:
        """The upstream went past max_tokens' worth of characters: end it as "length"."""
        log.warning("answer over its size bound chars=%d", len(acc.text) + len(acc.reasoning))
        acc.reasoning = acc.reasoning[: self._answer_chars]
        acc.text = acc.text[: max(self._answer_chars - len(acc.reasoning), 0)]
        acc.round_from = min(acc.round_from, len(acc.text))
        acc.finish = "length"
