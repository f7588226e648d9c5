"""The upstream part of one turn: the model's rounds streamed to a sink, tools run between them.

This module is the turn's loop (rounds, tools, Stop and deadlines); one round's streaming is
bot.core.round_stream.

One turn is one or more rounds. A round is one streamed request; when it ends asking for tool
calls (and the turn's ToolRounds allow another round), the calls run, their results join the
request and the next round goes. Stop, the answer deadlines and the size cap apply to the turn as
a whole; a Stop during a tool cancels the tool and keeps what was generated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from bot.core.budget import PROMPT_OVERHEAD, TokenCalibration
from bot.core.errors import AnswerTimedOut, StreamBroken, UpstreamError
from bot.core.limits import AnswerLimits, watch
from bot.core.models import ChatKey, ChatMessage, Outcome, Reply
from bot.core.monitor import UpstreamMonitor
from bot.core.ports import AdminAlerts, LLMGateway, ReplySink
from bot.core.round_stream import Progress, RoundStream
from bot.core.stop import stopped_as
from bot.core.tool_rounds import ToolRounds

log = logging.getLogger(__name__)

# Whether a further round may go: (tokens spent so far, the next round's prompt estimate).
RoundCheck = Callable[[int, int], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Turn:
    """Who asks, with which model and system prompt; `ratio` is the real prompt tokens per
    estimated one (TokenCalibration)."""

    chat: ChatKey
    user_id: int
    model: str
    system: ChatMessage
    group: bool
    ratio: float = 1.0


@dataclass(slots=True)
class Generated:
    """A turn's reply, the tool rounds' history messages, and the last round's own text."""

    reply: Reply
    messages: list[ChatMessage]
    final_text: str


class Generator:
    """Streams one turn's rounds to a sink and returns its reply and tool messages."""

    def __init__(
        self,
        gateway: LLMGateway,
        max_tokens: int,
        limits: AnswerLimits,
        answer_chars: int,
        calibration: TokenCalibration,
        monitor: UpstreamMonitor | None,
        alerts: Callable[[], AdminAlerts | None],
    ) -> None:
        self._limits = limits
        self._monitor = monitor
        self._round = RoundStream(gateway, max_tokens, answer_chars, calibration, monitor, alerts)

    async def run(
        self,
        turn: Turn,
        messages: Sequence[ChatMessage],
        sink: ReplySink,
        stop: asyncio.Event,
        rounds: ToolRounds | None = None,
        check: RoundCheck | None = None,
    ) -> Generated:
        """Generate the answer to `messages`; with `rounds`, tool calls run between rounds
        (`check` is asked before each further round). Stop, the deadlines and the size cap end
        it with what was generated; failures before any text raise UpstreamError."""
        started = time.monotonic()
        acc = Progress(content_at=started)
        task = asyncio.create_task(self._rounds(turn, messages, acc, sink, rounds, check))
        outcome, why = await self._supervise(turn, task, acc, sink, stop, started)
        self._round.close(turn, acc)
        if outcome == "timed_out":
            log.warning("answer timed out chat=%s why=%s", turn.chat.chat_id, why)
            if not acc.text:
                self._failed(AnswerTimedOut(why))
        if outcome == "complete" and acc.finish == "length":
            outcome = "length"
        reply = Reply(acc.text, acc.reasoning, outcome, acc.spent, usage_estimated=acc.estimated)
        try:
            await sink.finish(reply)
        except Exception:
            # Whatever the delivery met, the tokens were spent: count them and keep the turn.
            log.exception("delivering the answer failed chat=%s", turn.chat.chat_id)
        self._log(turn, reply, acc.rounds, started)
        tool_messages = list(rounds.messages) if rounds is not None else []
        return Generated(reply, tool_messages, acc.text[acc.round_from :].strip())

    async def _supervise(
        self,
        turn: Turn,
        task: asyncio.Task[None],
        acc: Progress,
        sink: ReplySink,
        stop: asyncio.Event,
        started: float,
    ) -> tuple[Outcome, str]:
        """Wait for the rounds, Stop or a deadline; the outcome and the deadline's reason."""
        outcome: Outcome = "complete"
        stopper = asyncio.create_task(stop.wait())
        watchdog = asyncio.create_task(watch(self._limits, started, lambda: acc.content_at))
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
                log.warning("upstream stream broke mid-answer chat=%s", turn.chat.chat_id)
                outcome = "interrupted"
        return outcome, watchdog.result() if expired else ""

    async def _rounds(
        self,
        turn: Turn,
        messages: Sequence[ChatMessage],
        acc: Progress,
        sink: ReplySink,
        rounds: ToolRounds | None,
        check: RoundCheck | None,
    ) -> None:
        base = [m.as_openai() for m in (turn.system, *messages)]
        base_prompt = turn.system.tokens + sum(m.tokens for m in messages) + PROMPT_OVERHEAD
        while True:
            tools = rounds.tools_param() if rounds is not None else None
            done = rounds.messages if rounds is not None else []
            offered = rounds.spec_tokens if rounds is not None and tools else 0
            acc.round_prompt = base_prompt + offered + sum(m.tokens for m in done)
            await self._round.stream(
                turn, [*base, *(m.as_openai() for m in done)], acc, sink, tools
            )
            self._round.close(turn, acc)
            calls, acc.calls = acc.calls, ()
            if rounds is None or not calls or not rounds.can_continue():
                return
            sink.tool_status(rounds.status_lines(calls))
            said = acc.text[acc.round_from :].strip()
            acc.round_from = len(acc.text)  # that text belongs to the calls' message
            await rounds.run_round(said, calls)
            # A tool's results are progress: the idle bound waits for the next round from here.
            acc.content_at = time.monotonic()
            prompt = base_prompt + sum(m.tokens for m in rounds.messages)
            if check is not None and not await check(acc.spent.total_tokens, prompt):
                log.info("no quota left for another tool round chat=%s", turn.chat.chat_id)
                return

    def _failed(self, exc: UpstreamError) -> NoReturn:
        """Count the failure, then raise it."""
        if self._monitor is not None:
            self._monitor.error(exc.kind)
        raise exc

    @staticmethod
    def _log(turn: Turn, reply: Reply, rounds: int, started: float) -> None:
        usage = reply.usage
        log.info(
            "usage user=%s chat=%s model=%s prompt=%s completion=%s total=%s estimated=%s "
            "outcome=%s rounds=%d latency_ms=%d",
            turn.user_id,
            turn.chat.chat_id,
            turn.model,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens,
            reply.usage_estimated,
            reply.outcome,
            rounds,
            (time.monotonic() - started) * 1000,
        )
