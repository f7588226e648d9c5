"""Bytes the embedded store (no REDIS_URL) writes to DATA_DIR per minute, with many chats.

    .venv/bin/python bench/store_bench.py --chats 10000 --turns-per-minute 600 --seconds 30

Fills the store with `--chats` private chats (each a history of `--history` messages of about
`--message-bytes` bytes, its usage counters and the bot's stats, as the bot's own adapters write
them), stops and reloads it (a restart), then runs turns on random chats at the given rate for
`--seconds`: each turn counts a flood attempt, appends a question and an answer to the chat's
history and adds its usage, the writes of a real turn. It reports the bytes this process wrote
(/proc/self/io wchar: every write and pwrite, the store's files being all it writes) per minute
while turns run, the size of DATA_DIR, the time to load the store at start, the save cost on the
event loop (the longest gap between two ticks of a 10 ms timer) and the peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.embedded_store import EmbeddedStore
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_quota import RedisQuota
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import ChatKey, ChatMessage, Usage
from bot.core.quota import Attempt

KEYS = RedisKeys("gonka", idle_ttl=180 * 86400)
MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"


def written() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


class Turns:
    def __init__(self, store: EmbeddedStore, message_bytes: int, history: int) -> None:
        self.history = RedisHistoryStore(store.client, KEYS)
        self.usage = RedisUsageStore(store.client, KEYS)
        self.quota = RedisQuota(store.client, KEYS)
        self.text = "x" * (message_bytes // 2)
        self.keep = history

    async def turn(self, user: int) -> None:
        now = datetime.now(UTC)
        attempt = Attempt(user, user, now, now.timestamp(), 10.0, 5, None)
        await self.quota.attempt(attempt)
        messages = [ChatMessage("user", self.text, 50), ChatMessage("assistant", self.text, 50)]
        await self.history.append(ChatKey(user), messages, self.keep)
        await self.usage.add(user, MODEL, Usage(900, 120), now, chat_id=user)


async def fill(data_dir: Path, args: argparse.Namespace) -> None:
    store = EmbeddedStore(data_dir, args.interval)
    store.load()
    turns = Turns(store, args.message_bytes, args.history)
    history = [ChatMessage("user", turns.text, 50)] * args.history
    now = datetime.now(UTC)
    for user in range(1, args.chats + 1):
        await turns.history.append(ChatKey(user), history, args.history)
        await turns.usage.add(user, MODEL, Usage(900, 120), now, chat_id=user)
    await store.close()


async def loop_lag(stop: asyncio.Event, worst: list[float]) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        worst[0] = max(worst[0], now - last - 0.01)
        last = now


async def run(data_dir: Path, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    await fill(data_dir, args)
    print(f"filled {args.chats} chats in {time.perf_counter() - started:.0f} s")
    print(f"DATA_DIR after the fill: {dir_size(data_dir) / 1e6:.1f} MB")
    started = time.perf_counter()
    store = EmbeddedStore(data_dir, args.interval)
    keys = store.load()
    print(f"load at start: {keys} keys in {time.perf_counter() - started:.2f} s")
    store.start()
    turns = Turns(store, args.message_bytes, args.history)
    stop, worst = asyncio.Event(), [0.0]
    lag = asyncio.create_task(loop_lag(stop, worst))
    rng = random.Random(7)
    pause = 60.0 / args.turns_per_minute
    before, done, t0 = written(), 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < args.seconds:
        await turns.turn(rng.randint(1, args.chats))
        done += 1
        await asyncio.sleep(max(0.0, done * pause - (time.perf_counter() - t0)))
    elapsed = time.perf_counter() - t0
    per_minute = (written() - before) / elapsed * 60  # the saves while turns ran
    stop.set()
    await lag
    print(f"turns: {done} in {elapsed:.0f} s ({done / elapsed * 60:.0f} per minute)")
    print(
        f"bytes written per minute: {per_minute / 1e6:.2f} MB ({per_minute / done * elapsed / 60 / 1e3:.1f} KB per turn)"
    )
    print(f"DATA_DIR at the end: {dir_size(data_dir) / 1e6:.1f} MB")
    print(f"longest event-loop stall while saving: {worst[0] * 1000:.0f} ms")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    try:
        await store.close()
    except Exception as exc:  # the whole-file snapshot could race its own saver here
        print(f"close failed: {exc!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=20, help="messages kept per chat")
    parser.add_argument("--message-bytes", type=int, default=200)
    parser.add_argument("--turns-per-minute", type=float, default=600)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=2.0, help="SNAPSHOT_INTERVAL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        asyncio.run(run(Path(tmp), args))


if __name__ == "__main__":
    main()
