"""The upstream part of one turn: the model's rounds streamed to a sink, tools run between them.

One turn is one or more rounds. A round is one streamed request; when it ends asking for tool
calls (and the turn's ToolRounds allow another round), the calls run, their results join the
request and the next round goes. Stop, the answer deadlines and the size cap apply to the turn as
a whole; a Stop during a tool cancels the tool and keeps what was generated. What the rounds
report is folded into the turn's `Progress` (bot.core.progress).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from bot.core.budget import PROMPT_OVERHEAD, TokenCalibration
from bot.core.conversation import ConversationConfig
from bot.core.errors import AnswerTimedOut, StreamBroken, UpstreamError
from bot.core.limits import watch
from bot.core.models import ChatKey, ChatMessage, Outcome, Reply
from bot.core.monitor import Monitor
from bot.core.ports import AdminAlerts, LLMGateway, ReplySink
from bot.core.progress import Progress
from bot.core.stop import stopped_as
from bot.core.tool_rounds import ToolRounds

log = logging.getLogger(__name__)

# Whether a further round may go: (tokens spent so far, the next round's prompt estimate).
RoundCheck = Callable[[int, int], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Prompt:
    """What one attempt at a turn sends: who asks where, the model, the system prompt and the
    messages after it; `ratio` is the real prompt tokens per estimated one (TokenCalibration);
    `temperature` goes in every round's request (None: the gateway's own)."""

    chat: ChatKey
    user_id: int
    group: bool
    model: str
    system: ChatMessage
    messages: Sequence[ChatMessage]
    ratio: float = 1.0
    temperature: float | None = None

    @property
    def tokens(self) -> int:
        """The prompt's estimate, the request's own overhead included."""
        return self.system.tokens + sum(m.tokens for m in self.messages) + PROMPT_OVERHEAD


@dataclass(slots=True)
class Generated:
    """A turn's reply, the tool rounds' history messages, and the last round's own text."""

    reply: Reply
    messages: list[ChatMessage]
    final_text: str


@dataclass(frozen=True, slots=True)
class Generator:
    """Streams one turn's rounds to a sink and returns its reply and tool messages."""

    gateway: LLMGateway
    config: ConversationConfig
    monitor: Monitor | None = None
    alerts: AdminAlerts | None = None
    calibration: TokenCalibration = field(default_factory=TokenCalibration)

    async def run(
        self,
        prompt: Prompt,
        sink: ReplySink,
        stop: asyncio.Event,
        rounds: ToolRounds | None = None,
        check: RoundCheck | None = None,
    ) -> Generated:
        """Generate the answer to `prompt`; with `rounds`, tool calls run between rounds
        (`check` is asked before each further round). Stop, the deadlines and the size cap end
        it with what was generated; failures before any text raise UpstreamError."""
        started = time.monotonic()
        acc = Progress(content_at=started)
        task = asyncio.create_task(self._rounds(prompt, acc, sink, rounds, check))
        outcome, why = await self._supervise(prompt, task, acc, sink, stop, started)
        if outcome == "timed_out":
            log.warning("answer timed out chat=%s why=%s", prompt.chat.chat_id, why)
            if not acc.text:
                self._failed(AnswerTimedOut(why))
        if outcome == "complete" and acc.finish == "length":
            outcome = "length"
        reply = Reply(acc.text, acc.reasoning, outcome, acc.spent, usage_estimated=acc.estimated)
        try:
            await sink.finish(reply)
        except Exception:
            # Whatever the delivery met, the tokens were spent: count them and keep the turn.
            log.exception("delivering the answer failed chat=%s", prompt.chat.chat_id)
        _log(prompt, reply, acc.rounds, started)
        tool_messages = list(rounds.messages) if rounds is not None else []
        return Generated(reply, tool_messages, acc.text[acc.round_from :].strip())

    async def _supervise(
        self,
        prompt: Prompt,
        task: asyncio.Task[None],
        acc: Progress,
        sink: ReplySink,
        stop: asyncio.Event,
        started: float,
    ) -> tuple[Outcome, str]:
        """Wait for the rounds, Stop or a deadline; the outcome and the deadline's reason."""
        outcome: Outcome = "complete"
        stopper = asyncio.create_task(stop.wait())
        watchdog = asyncio.create_task(watch(self.config.limits, started, lambda: acc.content_at))
        try:
            # One turn of the loop lets the request go out first: the placeholder the sink
            # shows is a Bot API call, and in a burst of turns it would hold every request back.
            await asyncio.sleep(0)
            await sink.started()
            await asyncio.wait({task, stopper, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            expired = watchdog.done() and not watchdog.cancelled()
            stopper.cancel()
            watchdog.cancel()
            if not task.done():
                task.cancel()  # a running tool is cancelled too, the upstream closed
                outcome = "timed_out" if expired else stopped_as(stop)
            try:
                await task
            except asyncio.CancelledError:
                if outcome == "complete":  # not ended by `stop`: the task itself is cancelled
                    raise
            except StreamBroken:
                if not acc.text:
                    raise
                log.warning("upstream stream broke mid-answer chat=%s", prompt.chat.chat_id)
                outcome = "interrupted"
        return outcome, watchdog.result() if expired else ""

    async def _rounds(
        self,
        prompt: Prompt,
        acc: Progress,
        sink: ReplySink,
        rounds: ToolRounds | None,
        check: RoundCheck | None,
    ) -> None:
        base = [m.as_openai() for m in (prompt.system, *prompt.messages)]
        while True:
            tools = rounds.tools_param() if rounds is not None else None
            done = rounds.messages if rounds is not None else []
            offered = rounds.spec_tokens if rounds is not None and tools else 0
            acc.begin(prompt.tokens + offered + sum(m.tokens for m in done))
            try:
                await self._stream(
                    prompt, [*base, *(m.as_openai() for m in done)], acc, sink, tools
                )
            finally:
                self._close(prompt, acc)  # a cut round (Stop, a deadline) is counted too
            calls = acc.calls
            if rounds is None or not calls or not rounds.can_continue():
                return
            sink.tool_status(rounds.status_lines(calls))
            await rounds.run_round(acc.hand_to_tools(), calls)
            acc.tools_ran()
            next_prompt = prompt.tokens + sum(m.tokens for m in rounds.messages)
            if check is not None and not await check(acc.spent.total_tokens, next_prompt):
                log.info("no quota left for another tool round chat=%s", prompt.chat.chat_id)
                return

    async def _stream(
        self,
        prompt: Prompt,
        payload: list[dict[str, Any]],
        acc: Progress,
        sink: ReplySink,
        tools: list[dict[str, Any]] | None,
    ) -> None:
        """Stream one request into `acc`; the sink gets every change of text or reasoning."""
        max_tokens, started, first = self.config.max_tokens, time.monotonic(), True
        cap = self.config.limits.answer_chars(max_tokens)  # the size cap
        stream = self.gateway.stream(
            prompt.model, payload, max_tokens, tools=tools, temperature=prompt.temperature
        )
        try:
            async for event in stream:
                if first and self.monitor is not None:
                    self.monitor.first_token(time.monotonic() - started, prompt.model)
                first = False
                if not acc.fold(event):
                    continue
                if acc.capped(cap):
                    break
                sink.update(acc.text, acc.reasoning)
        except UpstreamError as exc:
            await self._upstream_failed(exc, prompt.model)
            raise
        finally:
            acc.flush()
            await stream.aclose()

    def _close(self, prompt: Prompt, acc: Progress) -> None:
        sample = acc.close(prompt.ratio)
        if sample is not None:
            estimate, usage = sample
            chat_id = prompt.chat.chat_id
            self.calibration.observe(prompt.model, chat_id, estimate, usage.prompt_tokens)

    async def _upstream_failed(self, exc: UpstreamError, model: str) -> None:
        if self.monitor is not None:
            self.monitor.error(exc.kind, model)
        alerts = self.alerts if exc.notified_key is not None else None
        if alerts is not None and await alerts.upstream_failed(exc.kind):
            exc.owner_notified()

    def _failed(self, exc: UpstreamError) -> NoReturn:
        """Count the failure, then raise it."""
        if self.monitor is not None:
            self.monitor.error(exc.kind)
        raise exc


def _log(prompt: Prompt, reply: Reply, rounds: int, started: float) -> None:
    usage = reply.usage
    log.info(
        "usage user=%s chat=%s model=%s prompt=%s completion=%s total=%s estimated=%s "
        "outcome=%s rounds=%d latency_ms=%d",
        prompt.user_id, prompt.chat.chat_id, prompt.model, usage.prompt_tokens,
        usage.completion_tokens, usage.total_tokens, reply.usage_estimated, reply.outcome,
        rounds, (time.monotonic() - started) * 1000,
    )  # fmt: skip
