"""Coalescing benchmark: the latency the paste/album window adds to an ordinary short message.

    python bench/coalesce_bench.py [--short 2000] [--pasters 200] [--seconds 5]

Real clock, real asyncio.sleep, uvloop when installed (as the bot runs). Over `--seconds`, other
users keep pasting long texts (a 4,000-character part, then a 500-character tail 50-400 ms later),
so hundreds of windows are open and their openers sleep and wake on the same loop, while `--short`
ordinary short messages from other users arrive at random times. For each short message the time
from offering it to the coalescer to getting its turn back is the latency coalescing adds; p50,
p95 and max are printed (target: p95 under 50 ms). For the pastes, the time from the tail's arrival
to the turn's completion is printed too (the settle time, by design).

Then the same short message through a real aiogram Dispatcher (feed_update to the handler's first
line), without and with CoalesceMiddleware, one after another on an idle loop.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bot.core.coalesce import CoalesceConfig, CoalesceKey, Coalescer, Part
from bot.telegram.coalescing import CoalesceMiddleware


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def short_message(coalescer: Coalescer[None], user: int, at: float, out: list[float]) -> None:
    await asyncio.sleep(at)
    key = CoalesceKey(chat_id=user, thread_id=None, user_id=user)
    start = time.perf_counter()
    turn = await coalescer.offer(key, Part(message_id=1, kind="text", text="how are you?"))
    out.append(time.perf_counter() - start)
    assert turn is not None and len(turn.parts) == 1


async def paste(coalescer: Coalescer[None], user: int, seconds: float, out: list[float]) -> None:
    key = CoalesceKey(chat_id=-100 - user, thread_id=None, user_id=user)
    message_id = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        await asyncio.sleep(random.uniform(0.0, 0.5))
        message_id += 2
        first: Part[None] = Part(message_id=message_id, kind="text", text="a" * 4000)
        opener = asyncio.create_task(coalescer.offer(key, first))
        await asyncio.sleep(random.uniform(0.05, 0.4))
        tail_at = time.perf_counter()
        joined = await coalescer.offer(
            key, Part(message_id=message_id + 1, kind="text", text="b" * 500)
        )
        turn = await opener
        out.append(time.perf_counter() - tail_at)
        assert joined is None and turn is not None and len(turn.parts) == 2


def short_update(update_id: int, user: int) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_700_000_000,
                "chat": {"id": user, "type": "private", "first_name": "U"},
                "from": {"id": user, "is_bot": False, "first_name": "U"},
                "text": "how are you?",
            },
        }
    )


async def dispatcher_latency(with_middleware: bool, count: int) -> list[float]:
    """Time from feed_update to the handler's first line, on a real aiogram Dispatcher."""
    entered: dict[int, float] = {}

    async def on_message(message: Message) -> None:
        entered[message.message_id] = time.perf_counter()

    dp = Dispatcher()
    if with_middleware:
        coalescer: Coalescer[Message] = Coalescer(CoalesceConfig(), time.monotonic)
        dp.update.outer_middleware(CoalesceMiddleware(coalescer))
    dp.message.register(on_message)
    bot = Bot("123456:bench-token")
    out: list[float] = []
    for n in range(1, count + 1):
        update = short_update(n, 10_000 + n)
        start = time.perf_counter()
        await dp.feed_update(bot, update)
        out.append(entered[n] - start)
    await bot.session.close()
    return out


async def run(args: argparse.Namespace) -> tuple[list[float], list[float]]:
    coalescer: Coalescer[None] = Coalescer(CoalesceConfig(), time.monotonic, asyncio.sleep)
    shorts: list[float] = []
    pastes: list[float] = []
    tasks = [paste(coalescer, user, args.seconds, pastes) for user in range(args.pasters)]
    tasks += [
        short_message(coalescer, 10_000 + n, random.uniform(0.5, args.seconds), shorts)
        for n in range(args.short)
    ]
    await asyncio.gather(*tasks)
    return shorts, pastes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", type=int, default=2000, help="ordinary short messages")
    parser.add_argument("--pasters", type=int, default=200, help="users pasting long texts")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    shorts, pastes = runner(run(args))
    plain = runner(dispatcher_latency(False, args.short))
    coalesced = runner(dispatcher_latency(True, args.short))

    def line(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (
            f"{name:<38} n={len(ms):<6} p50 {percentile(ms, 50):8.3f} ms   "
            f"p95 {percentile(ms, 95):8.3f} ms   max {max(ms):8.3f} ms"
        )

    print(
        f"coalescer, {args.pasters} users pasting for {args.seconds:.0f} s, windows open meanwhile"
    )
    print(line("added latency, ordinary short message", shorts))
    print(line("paste tail -> one turn (settle 0.3 s)", pastes))
    print("aiogram Dispatcher.feed_update -> handler, ordinary short message:")
    print(line("  without the coalescing middleware", plain))
    print(line("  with the coalescing middleware", coalesced))
    added = percentile(coalesced, 95) - percentile(plain, 95)
    print(f"added by the middleware at p95: {added * 1000:.3f} ms (target < 50 ms)")
    return 0 if percentile(shorts, 95) < 0.050 and added < 0.050 else 1


if __name__ == "__main__":
    raise SystemExit(main())
