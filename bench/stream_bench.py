"""Streaming benchmark: the REAL bot against the project's fake Telegram and fake Gonka servers.

    python bench/stream_bench.py [--chats 50] [--messages 3] [--chars 1500] [--ttft 0.5]
                                 [--tokens-per-second 60] [--no-drafts] [--profile FILE]
                                 [--rich]

--rich runs the benchmark twice, plain (text + entities) and rich (rich drafts, sendRichMessage),
and prints Bot API calls per reply of both paths side by side.

N private chats each send M messages; a chat sends its next message once its previous answer is
complete. The fake servers (with Telegram's default flood limits) and the load driver run in a
SEPARATE process (multiprocessing "spawn", commands over a Pipe), so the CPU time and peak RSS
measured in this process are the bot's own.

Per reply, all times are time.monotonic() (CLOCK_MONOTONIC, system-wide) taken in the fakes'
process:
  t_update           the getUpdates call that handed the update out was answered
  t_first_visible    arrival of the first successful Bot API call that put non-empty answer text in
                     front of the user (sendMessageDraft with text, or sendMessage/editMessageText)
  t_upstream_request the fake Gonka received the chat-completion request
  t_upstream_first   the fake Gonka wrote the first content chunk (not the role-only chunk)
  overhead           (t_first_visible - t_update) - (t_upstream_first - t_upstream_request)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import io
import logging
import math
import multiprocessing as mp
import os
import pstats
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Run as a script: make `bot` and `tests.doubles` importable (they are imported lazily below).
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tests.doubles.fake_gonka import RequestRecord

NOT_COUNTED = frozenset({"getUpdates", "getMe", "deleteWebhook"})
FIRST_CHAT = 10_000
PIECE_LIMIT = 4096 - 160  # the sink's per-message room for the answer (NOTE_RESERVE = 160)
TARGET_P50_MS = 30.0
TARGET_P95_MS = 100.0
TARGET_CPU_PER_100 = 1.0
QUESTIONS = (
    "How do I keep a streaming chat bot inside Telegram's flood limits?",
    "Explain token buckets with a short Python example.",
    "What is a good way to measure latency in an asyncio service?",
    "Compare drafts and message edits for streaming answers.",
)
SENTENCES = (
    "Streaming answers feel faster because the user sees the first words almost at once.",
    "Each edit of a message costs one Bot API call, so a bot has to pace its updates.",
    "Telegram allows roughly one message per second in a private chat and short bursts above it.",
    "A token bucket refills at a steady rate and lets a few calls through at the same moment.",
    "When the bucket is empty the caller waits instead of meeting a flood-control error.",
    "Drafts animate the text on the client and do not create a message until the answer ends.",
    "The model produces tokens at its own pace, which the bot cannot make any faster.",
    "Rendering Markdown into entities avoids escaping problems with special characters.",
    "Long answers are split into several messages at paragraph boundaries when possible.",
    "Measuring the overhead means subtracting the time the upstream model spent thinking.",
    "Percentiles tell more about user experience than an average that hides the slow cases.",
    "A benchmark should run the real code path, with realistic delays on both sides.",
    "Memory use stays flat when every reply releases its buffers once it is delivered.",
    "Retries belong before the first byte; after that, a broken stream is reported as such.",
)


@dataclass(frozen=True)
class BenchConfig:
    chats: int
    messages: int
    chars: int
    ttft: float
    tokens_per_second: float
    drafts: bool
    redis_url: str | None = None
    rich: bool = False
    chunk_chars: int = 4
    reply_timeout: float = 90.0
    spread: float = 0.0  # chats' first messages at random moments over this many seconds


# ------------------------------------------------------------------------------ answer text


def make_answer(chars: int, seed: int) -> str:
    """Markdown-ish prose of exactly `chars` characters: paragraphs, a list, bold, a code block."""
    rnd = random.Random(seed)
    head = (
        f"Here is a **short overview** of question {seed}. The answer covers the main points "
        "first and then goes into the details.\n\n"
        "Key points:\n\n"
        "- **Pacing**: keep every chat inside its limit.\n"
        "- **Latency**: show the first words as soon as they arrive.\n"
        "- **Correctness**: the final text must equal the model's answer.\n\n"
        "```python\n"
        "def refill(tokens: float, elapsed: float, rate: float, burst: int) -> float:\n"
        "    return min(burst, tokens + elapsed * rate)\n"
        "```\n\n"
    )
    if chars < len(head) + 120:
        head = f"A **short** answer to question {seed}. "
    parts: list[str] = []
    size = len(head)
    while size < chars + 1:
        paragraph = " ".join(rnd.choice(SENTENCES) for _ in range(rnd.randint(2, 4)))
        parts.append(paragraph)
        size += len(paragraph) + 2
    text = (head + "\n\n".join(parts))[:chars]
    return text[:-1] + "."


def strip_markdown(md: str) -> str:
    """What a reader sees of `make_answer`'s Markdown, whitespace-normalised (independent check)."""
    lines: list[str] = []
    for line in md.splitlines():
        if line.startswith("```"):
            continue
        if line.startswith("- "):
            line = "• " + line[2:]
        lines.append(line.replace("**", "").replace("`", ""))
    return " ".join(" ".join(lines).split())


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


# ------------------------------------------------------------------------------ fakes process


@dataclass
class ReplyStat:
    chat_id: int
    index: int
    question: str
    message_id: int
    before: int  # bot messages in the chat before this question
    sent_at: float
    completed_at: float | None = None
    expected: list[str] = field(default_factory=list)  # rendered pieces of the model's answer
    model_text: str = ""


def _fakes_main(conn: Connection, cfg: BenchConfig) -> None:
    asyncio.run(_fakes(conn, cfg))


async def _fakes(conn: Connection, cfg: BenchConfig) -> None:
    from bot.formatting.render import render_markdown, split_markdown
    from bot.formatting.rich_markdown import RICH_TEXT_LIMIT, make_safe
    from bot.formatting.rich_split import split_rich
    from bot.telegram.streaming.layout import RICH_RESERVE
    from tests.doubles.fake_gonka import FakeGonka, Reply
    from tests.doubles.fake_telegram import FakeTelegramServer, Json

    class TimedTelegram(FakeTelegramServer):
        """Records when each message update was handed out by getUpdates."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.handed_out: dict[tuple[int, int], float] = {}
            self.chat_changed: dict[int, asyncio.Event] = {}
            self.register("getUpdates", self._timed_get_updates)

        def _reply(self, method: str, params: Json, at: float, *args: Any, **kw: Any) -> Any:
            # The driver waits per chat: waking all 50 waiters on every call of any chat (the
            # server's own wait_for) cost the fakes' process ~100 ms in a burst, and that lag
            # was counted as the bot's overhead.
            response = super()._reply(method, params, at, *args, **kw)
            chat_id = params.get("chat_id")
            changed = self.chat_changed.pop(chat_id, None) if isinstance(chat_id, int) else None
            if changed is not None:
                changed.set()
            return response

        async def _timed_get_updates(self, params: Json) -> list[Json]:
            updates = await self._m_get_updates(params)
            now = time.monotonic()
            for update in updates:
                message = update.get("message")
                if message is not None:
                    key = (int(message["chat"]["id"]), int(message["message_id"]))
                    self.handed_out.setdefault(key, now)
            return updates

    class TimedGonka(FakeGonka):
        """FakeGonka that finds the request record of a question."""

        def __init__(self) -> None:
            super().__init__()
            self._by_question: dict[str, RequestRecord] = {}
            self._scanned = 0

        def record_for(self, question: str) -> RequestRecord | None:
            for record in self.request_log[self._scanned :]:
                messages = record.body.get("messages") or []
                users = [m for m in messages if m.get("role") == "user"]
                if users and isinstance(users[-1].get("content"), str):
                    self._by_question[users[-1]["content"]] = record
            self._scanned = len(self.request_log)
            return self._by_question.get(question)

    loop = asyncio.get_running_loop()
    async with TimedTelegram(drafts_enabled=cfg.drafts) as tg, TimedGonka() as gonka:
        # Telegram's default flood limits stay on (FloodLimits()).
        token_delay = 1.0 / cfg.tokens_per_second
        # The warm-up answer comes first in the queue; then one Reply per measured request.
        gonka.enqueue(Reply(text=make_answer(300, 999_999), chunk_chars=cfg.chunk_chars))
        gonka.enqueue(
            *(
                Reply(
                    text=make_answer(cfg.chars, seed),
                    ttft=cfg.ttft,
                    token_delay=token_delay,
                    chunk_chars=cfg.chunk_chars,
                )
                for seed in range(cfg.chats * cfg.messages)
            )
        )
        conn.send(
            {
                "telegram_url": tg.base_url,
                "token": tg.token,
                "gonka_url": gonka.base_url + "/v1",
                "api_key": gonka.api_key,
            }
        )
        await tg.wait_for(lambda: tg.calls_of("getUpdates"), timeout=30)
        replies: list[ReplyStat] = []
        timeouts: list[str] = []

        def expected_pieces(text: str) -> list[str]:
            if cfg.rich:
                return [make_safe(p) for p in split_rich(text, RICH_TEXT_LIMIT - RICH_RESERVE)]
            return [render_markdown(p).text for p in split_markdown(text, PIECE_LIMIT)]

        def done(rep: ReplyStat) -> bool:
            record = gonka.record_for(rep.question)
            if record is None or record.finished_at is None:
                return False
            if not rep.expected:
                rep.model_text = record.sent_content.strip()
                rep.expected = expected_pieces(rep.model_text)
            new = tg.bot_messages(rep.chat_id)[rep.before :]
            return len(new) >= len(rep.expected) and not any(m.streaming for m in new)

        async def wait_done(rep: ReplyStat) -> None:
            deadline = time.monotonic() + cfg.reply_timeout
            while True:
                changed = tg.chat_changed.setdefault(rep.chat_id, asyncio.Event())
                if done(rep):
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"reply not complete in {cfg.reply_timeout} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), min(remaining, 0.25))

        async def ask(chat_id: int, k: int, into: list[ReplyStat]) -> bool:
            question = f"[chat {chat_id} #{k + 1}] {QUESTIONS[k % len(QUESTIONS)]}"
            before = len(tg.bot_messages(chat_id))
            sent_at = time.monotonic()
            message_id = await tg.send_text(chat_id, question, first_name="Bench")
            rep = ReplyStat(chat_id, k, question, message_id, before, sent_at)
            into.append(rep)
            try:
                await wait_done(rep)
            except TimeoutError as exc:
                timeouts.append(f"chat {chat_id} #{k + 1}: {exc}")
                return False
            rep.completed_at = time.monotonic()
            return True

        async def chat_loop(chat_id: int) -> None:
            if cfg.spread:
                await asyncio.sleep(random.Random(chat_id).uniform(0, cfg.spread))
            for k in range(cfg.messages):
                if not await ask(chat_id, k, replies):
                    return

        # Warm-up (not measured): one exchange in a separate chat, so one-time costs of both sides
        # (lazy imports, first connections, the fake's tokenizer) stay out of the figures.
        if not await ask(FIRST_CHAT - 1, 0, []):
            raise RuntimeError(f"warm-up reply failed: {timeouts}")
        timeouts.clear()
        conn.send("polling")
        command = await loop.run_in_executor(None, conn.recv)
        assert command == "go", command
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.gather(*(chat_loop(FIRST_CHAT + i) for i in range(cfg.chats)))
        wall = time.monotonic() - wall0
        fakes_cpu = time.process_time() - cpu0
        conn.send(_analyse(tg, gonka, replies, timeouts, wall0, wall, fakes_cpu, cfg.rich))
        command = await loop.run_in_executor(None, conn.recv)  # "stop": the bot stopped polling


def _analyse(
    tg: Any,
    gonka: Any,
    replies: list[ReplyStat],
    timeouts: list[str],
    start: float,
    wall: float,
    cpu: float,
    rich: bool = False,
) -> dict[str, Any]:
    """Per-reply figures from the fakes' records (runs in the fakes' process). Calls made before
    `start` (the warm-up) are left out."""
    calls_by_chat: dict[int, list[Any]] = {}
    methods: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for call in tg.calls:
        if call.method in NOT_COUNTED or call.at < start:
            continue
        methods[call.method] += 1
        statuses[f"{call.method} {call.status}"] += 1
        chat_id = call.params.get("chat_id")
        if isinstance(chat_id, int):
            calls_by_chat.setdefault(chat_id, []).append(call)

    overhead: list[float] = []
    first_visible: list[float] = []
    before_upstream: list[float] = []
    after_upstream: list[float] = []
    upstream_first: list[float] = []
    final_lag: list[float] = []
    first_call: list[float] = []
    timelines: list[tuple[float, list[str]]] = []
    exact = plain = complete = 0
    problems: list[str] = []
    for rep in replies:
        if rep.completed_at is None:
            continue
        complete += 1
        t_update = tg.handed_out.get((rep.chat_id, rep.message_id))
        record = gonka.record_for(rep.question)
        t_first_content = record.first_content_at
        if t_update is None or record is None or t_first_content is None:
            problems.append(f"chat {rep.chat_id} #{rep.index + 1}: missing timestamps")
            continue
        chat_calls = [c for c in calls_by_chat.get(rep.chat_id, []) if c.at >= t_update]
        visible = next(
            (c for c in chat_calls if c.status == 200 and _answer_text(c).strip()),
            None,
        )
        if visible is None:
            problems.append(f"chat {rep.chat_id} #{rep.index + 1}: no visible text call")
            continue
        upstream = t_first_content - record.received_at
        raw = visible.at - t_update
        overhead.append(raw - upstream)
        first_visible.append(raw)
        first_call.append(chat_calls[0].at - t_update)
        upstream_first.append(upstream)
        before_upstream.append(record.received_at - t_update)
        after_upstream.append(visible.at - t_first_content)
        last_ok = [c.at for c in chat_calls if c.status == 200 and c.at <= rep.completed_at]
        if last_ok and record.finished_at is not None:
            final_lag.append(max(last_ok) - record.finished_at)
            timeline = [
                f"{(c.at - t_update) * 1000:8.1f} ms {c.method} {c.status}"
                f" text={len(str(c.params.get('text') or ''))}"
                for c in chat_calls
                if c.at <= rep.completed_at
            ]
            timeline.insert(0, f"{(record.received_at - t_update) * 1000:8.1f} ms upstream request")
            timeline.insert(
                1, f"{(t_first_content - t_update) * 1000:8.1f} ms upstream 1st content"
            )
            timeline.append(f"{(record.finished_at - t_update) * 1000:8.1f} ms upstream finished")
            timelines.append((max(last_ok) - record.finished_at, sorted(timeline)))

        messages = tg.bot_messages(rep.chat_id)[rep.before :]
        shown = [(m.rich_markdown if rich else m.text) or "" for m in messages]
        shown = shown[: len(rep.expected)]
        if shown == rep.expected:
            exact += 1
        else:
            problems.append(f"chat {rep.chat_id} #{rep.index + 1}: final text differs")
        if " ".join(" ".join(shown).split()) == strip_markdown(rep.model_text):
            plain += 1

    return {
        "replies": len(replies),
        "complete": complete,
        "exact": exact,
        "plain": plain,
        "timeouts": timeouts,
        "problems": problems,
        "wall": wall,
        "fakes_cpu": cpu,
        "overhead": overhead,
        "first_visible": first_visible,
        "before_upstream": before_upstream,
        "after_upstream": after_upstream,
        "upstream_first": upstream_first,
        "final_lag": final_lag,
        "first_call": first_call,
        "slowest_timeline": max(timelines, default=(0.0, []))[1],
        "methods": dict(methods),
        "statuses": dict(statuses),
        "count_429": tg.count_429,
        "internal_errors": [repr(e) for e in tg.internal_errors],
        "max_in_flight": gonka.max_in_flight,
    }


def _answer_text(call: Any) -> str:
    """The answer text a Bot API call put in front of the user (a thinking block is not one)."""
    if call.method not in (
        "sendMessageDraft", "sendMessage", "editMessageText", "sendRichMessageDraft",
        "sendRichMessage",
    ):  # fmt: skip
        return ""
    rich = call.params.get("rich_message")
    if isinstance(rich, dict):
        markdown = str(rich.get("markdown") or "")
        return "" if markdown.startswith("<tg-thinking>") else markdown
    return str(call.params.get("text") or "")


# ------------------------------------------------------------------------------ bot process


class _CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {record.msg}"] += 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _run_bot(cfg: BenchConfig, profile: str | None) -> dict[str, Any]:
    from bot.app import build_app
    from bot.config import Settings

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_fakes_main, args=(child, cfg), name="stream-bench-fakes")
    proc.start()
    try:
        urls: dict[str, str] = await asyncio.to_thread(parent.recv)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=urls["token"],
            telegram_api_url=urls["telegram_url"],
            gonka_api_key=urls["api_key"],
            gonka_base_url=urls["gonka_url"],
            redis_url=cfg.redis_url,
            redis_key_prefix=f"bench-{os.getpid()}",
            upstream_max_retries=1,
            upstream_read_timeout=30.0,
            use_drafts=cfg.drafts,
            rich_messages=cfg.rich,
            rich_drafts=cfg.rich,
            system_prompt="You are a test assistant.",
        )
        app = build_app(settings)
        task = asyncio.create_task(app.run_polling(polling_timeout=1, handle_signals=False))
        ready = await asyncio.to_thread(parent.recv)
        assert ready == "polling", ready
        rss_start = _rss_mb()
        profiler = cProfile.Profile() if profile else None
        cpu0, wall0 = _cpu(), time.monotonic()
        calls0, retry0 = app.counters.calls, app.counters.retry_after
        if profiler is not None:
            profiler.enable()
        parent.send("go")
        result: dict[str, Any] = await asyncio.to_thread(parent.recv)
        # The driver saw every final answer; let the bot finish its bookkeeping (history, usage).
        deadline = time.monotonic() + 5
        while app.running.active and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)  # App exposes no event for "generation ended"
        if profiler is not None:
            profiler.disable()
        result["bot_cpu"] = _cpu() - cpu0
        result["bot_wall"] = time.monotonic() - wall0
        result["rss_start"] = rss_start
        result["rss_peak"] = _rss_mb()
        result["bot_calls"] = app.counters.calls - calls0
        result["bot_429"] = app.counters.retry_after - retry0
        result["generations_left"] = app.running.active
        await app.dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        if cfg.redis_url:
            keys = [k async for k in app.redis.scan_iter(match=f"bench-{os.getpid()}:*")]
            if keys:
                await app.redis.delete(*keys)
        await app.close()
        parent.send("stop")
        if profiler is not None and profile is not None:
            profiler.dump_stats(profile)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            result["profile"] = out.getvalue()
        return result
    finally:
        await asyncio.to_thread(proc.join, 10)
        if proc.is_alive():
            proc.terminate()


# ------------------------------------------------------------------------------ report


def _ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:7.1f} ms   p95 {percentile(values, 95) * 1000:7.1f} ms"
    )


def _verdict(ok: bool) -> str:
    return "OK  " if ok else "MISS"


def report(cfg: BenchConfig, r: dict[str, Any], counts: Counter[str], verbose: bool) -> str:
    replies = max(1, r["complete"])
    total_calls = sum(r["methods"].values())
    p50 = percentile(r["overhead"], 50) * 1000
    p95 = percentile(r["overhead"], 95) * 1000
    cpu100 = r["bot_cpu"] / replies * 100
    mode = "drafts ON" if cfg.drafts else "drafts OFF (bot use_drafts=False, server refuses drafts)"
    mode += ", RICH messages" if cfg.rich else ", text + entities"
    lines = [
        f"stream_bench: {cfg.chats} chats x {cfg.messages} messages, {cfg.chars} chars/answer, "
        f"ttft {cfg.ttft} s, {cfg.tokens_per_second:g} tok/s ({cfg.chunk_chars} chars/token), "
        f"{mode}, Telegram default flood limits, "
        + (f"chats start over {cfg.spread:g} s" if cfg.spread else "all chats start at once"),
        "CPU/RSS: fake servers + load driver in a SEPARATE process (multiprocessing spawn);"
        " bot = this process, getrusage(RUSAGE_SELF) over the run window;"
        " one unmeasured warm-up exchange first",
        "",
        f"replies completed       {r['complete']}/{cfg.chats * cfg.messages}"
        f"   (timeouts {len(r['timeouts'])}, generations still active {r['generations_left']})",
        f"final text correct      {r['exact']}/{r['complete']} equal the bot renderer's text of the"
        f" model's Markdown (all pieces); {r['plain']}/{r['complete']} equal the model text with"
        " Markdown markers stripped (whitespace-normalised)",
        f"wall time               {r['wall']:.2f} s",
        "",
        f"bot overhead            {_ms(r['overhead'])}   target p50 < {TARGET_P50_MS:g} ms "
        f"[{_verdict(p50 < TARGET_P50_MS)}], p95 < {TARGET_P95_MS:g} ms "
        f"[{_verdict(p95 < TARGET_P95_MS)}]",
        f"  update -> upstream request      {_ms(r['before_upstream'])}",
        f"    (update -> 1st Bot API call   {_ms(r['first_call'])})",
        f"  upstream 1st chunk -> visible   {_ms(r['after_upstream'])}",
        f"time to first visible   {_ms(r['first_visible'])}   (raw, upstream included)",
        f"upstream request -> 1st content {_ms(r['upstream_first'])}",
        f"upstream end -> final shown     {_ms(r['final_lag'])}",
        "",
        f"Bot API calls per reply {total_calls / replies:.2f}   ({total_calls} calls; bot's own"
        f" counter {r['bot_calls']}; getUpdates/getMe/deleteWebhook excluded)",
    ]
    for method, n in sorted(r["methods"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {method:<22}{n / replies:6.2f}   ({n})")
    bad = {k: v for k, v in r["statuses"].items() if not k.endswith(" 200")}
    if bad:
        lines.append(f"  non-200 answers: {bad}")
    lines += [
        f"429s met                {r['count_429']} (server), {r['bot_429']} (bot's counter)"
        f"   target 0 [{_verdict(r['count_429'] == 0)}]",
        f"bot CPU                 {r['bot_cpu']:.2f} s total = {cpu100:.2f} s per 100 replies"
        f"   target < {TARGET_CPU_PER_100:g} s [{_verdict(cpu100 < TARGET_CPU_PER_100)}]",
        f"bot peak RSS            {r['rss_peak']:.1f} MB (already {r['rss_start']:.1f} MB when"
        " polling started)",
        f"fakes process CPU       {r['fakes_cpu']:.2f} s ({r['fakes_cpu'] / r['wall'] * 100:.0f}%"
        " of one core; near 100% would skew the latencies)",
        f"upstream max in flight  {r['max_in_flight']}",
    ]
    if counts:
        lines.append("bot warnings/errors logged:")
        lines += [f"  {n:5d} x {msg}" for msg, n in counts.most_common(8)]
    for label in ("timeouts", "problems", "internal_errors"):
        if r[label]:
            lines.append(f"{label}: {r[label][:10]}")
    if verbose and r["slowest_timeline"]:
        lines += ["", "reply with the largest 'upstream end -> final shown' (times from t_update):"]
        lines += [f"  {line}" for line in r["slowest_timeline"]]
    if r.get("profile"):
        lines += ["", "cProfile of the bot process (top 25 by tottime):", r["profile"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bot.__main__ import run_loop
    from bot.lazy_aiogram import install

    install()  # as `python -m bot` does: aiogram's types build on first use

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--chars", type=int, default=1500)
    parser.add_argument("--ttft", type=float, default=0.5)
    parser.add_argument("--tokens-per-second", type=float, default=60.0)
    parser.add_argument("--no-drafts", action="store_true", help="stream by message edits")
    parser.add_argument(
        "--redis-url",
        help="a real Redis (keys under bench-<pid>:, deleted after); default fakeredis",
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="chats start at random moments over SECONDS (default 0: all in the same instant)",
    )
    parser.add_argument("--verbose", action="store_true", help="print the slowest reply's calls")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the bot, dump stats to FILE")
    parser.add_argument("--rich", action="store_true", help="also run the rich path; compare")
    args = parser.parse_args(argv)
    cfg = BenchConfig(
        chats=args.chats,
        messages=args.messages,
        chars=args.chars,
        ttft=args.ttft,
        tokens_per_second=args.tokens_per_second,
        drafts=not args.no_drafts,
        redis_url=args.redis_url,
        spread=args.spread,
    )
    counter = _CountingHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[counter])
    configs = [cfg, dataclasses.replace(cfg, rich=True)] if args.rich else [cfg]
    per_reply: list[str] = []
    ok = True
    for run in configs:
        counter.counts.clear()
        result = run_loop(_run_bot(run, args.profile))  # the event loop `python -m bot` uses
        print(report(run, result, counter.counts, args.verbose), end="\n\n")
        replies = max(1, result["complete"])
        calls = sum(result["methods"].values()) / replies
        per_reply.append(f"{'rich' if run.rich else 'plain'} {calls:.2f}")
        ok = ok and result["complete"] == run.chats * run.messages
        ok = ok and result["exact"] == result["complete"]
    if args.rich:
        print("Bot API calls per reply: " + ", ".join(per_reply))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
