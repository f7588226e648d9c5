"""Coalescing through the real bot: what the paste window adds to an ordinary short message.

    python bench/coalesce_bot_bench.py [--messages 200] [--pasters 3]

The whole bot (aiogram polling, every middleware, the handler, the conversation service, the
openai SDK) runs against the fake Telegram and the fake Gonka on 127.0.0.1, as in the e2e tests,
twice: with coalescing off (COALESCE_WINDOW=0) and on (the defaults). Each short message comes
from a new user, one after another; its latency is the time from the update entering the fake
Telegram to its request reaching the fake Gonka. Meanwhile `--pasters` other users keep sending
split pastes (a 4,000-character part, then a 500-character tail), so windows are open while the
short messages pass. The difference of the percentiles is the latency coalescing adds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.coalesce_bench import percentile
from tests.doubles.fake_gonka import Reply, RequestRecord
from tests.e2e.conftest import Env, running_env

QUESTION = "how are you?"
FAST = {"private_edit_interval": 0.05, "private_edit_burst": 5, "draft_interval": 0.05}


async def paster(env: Env, user: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await env.telegram.send_text(user, "a" * 4000, user_id=user)
        await asyncio.sleep(random.uniform(0.05, 0.4))
        await env.telegram.send_text(user, "b" * 500, user_id=user)
        await asyncio.sleep(random.uniform(0.5, 1.5))


async def short_messages(env: Env, count: int) -> list[float]:
    out = []
    for n in range(count):
        user = 20_000 + n
        before = len(env.gonka.request_log)
        sent = time.monotonic()
        await env.telegram.send_text(user, QUESTION, user_id=user)
        deadline = sent + 10
        while (record := _asked(env, before)) is None:
            if time.monotonic() > deadline:
                window = env.app.settings.coalesce_window
                raise TimeoutError(f"message {n} never reached the upstream (window {window})")
            await asyncio.sleep(0.005)
        out.append(record.received_at - sent)
        await asyncio.sleep(0.02)
    return out


def _asked(env: Env, before: int) -> RequestRecord | None:
    """The short message's upstream request (the pastes' requests carry other text)."""
    for record in env.gonka.request_log[before:]:
        if record.body["messages"][-1].get("content") == QUESTION:
            return record
    return None


async def measure(window: float, messages: int, pasters: int) -> list[float]:
    async with running_env(coalesce_window=window, flood_messages=0, **FAST) as env:
        # Short answers: the bench is about the way in, not about Telegram's flood limits.
        env.gonka.enqueue(*[Reply(text="Fine.") for _ in range(messages + pasters * 100)])
        stop = asyncio.Event()
        load = [asyncio.create_task(paster(env, 30_000 + n, stop)) for n in range(pasters)]
        await asyncio.sleep(0.5)
        try:
            return await short_messages(env, messages)
        finally:
            stop.set()
            for task in load:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.sleep(3.5)  # the last pastes' windows close and are answered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--pasters", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    off = asyncio.run(measure(0.0, args.messages, args.pasters))
    on = asyncio.run(measure(1.0, args.messages, args.pasters))

    def line(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (
            f"{name:<28} n={len(ms):<5} p50 {percentile(ms, 50):7.2f} ms   "
            f"p95 {percentile(ms, 95):7.2f} ms   max {max(ms):7.2f} ms"
        )

    print(f"real bot, short message -> upstream request, {args.pasters} users pasting meanwhile")
    print(line("coalescing off", off))
    print(line("coalescing on (window 1 s)", on))
    p50 = (percentile(on, 50) - percentile(off, 50)) * 1000
    p95 = (percentile(on, 95) - percentile(off, 95)) * 1000
    print(f"added by coalescing: p50 {p50:+.2f} ms, p95 {p95:+.2f} ms (target < 50 ms)")
    return 0 if p95 < 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
