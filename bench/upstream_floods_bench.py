"""Upstream floods: what one hostile answer costs the bot before it is stopped.

    python bench/upstream_floods_bench.py [--max-tokens 2048] [--flood-mb 60]

For each flood of tests/doubles/fake_gonka_floods.py (tool-call arguments, one SSE line with no
end, one giant JSON body to a stream request, endless reasoning), the real gateway reads the
fake Gonka over the SDK's aiohttp transport until it stops (AnswerOversize; for reasoning the
round's character cap, MAX_TOKENS x 10, as round_stream applies it). Printed per flood: wall
time, the process's CPU time, the bytes the fake wrote before the connection closed, and the
longest the event loop went without running a 10 ms ticker (a stalled loop stalls /healthz
and every other user).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openai import AsyncOpenAI, DefaultAioHttpClient

from bot.adapters.gonka import GonkaGateway
from bot.core.budget import ANSWER_CHARS_PER_TOKEN
from bot.core.errors import AnswerOversize
from bot.core.models import ReasoningDelta
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_gonka_floods import Flood, FloodKind

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
KINDS: tuple[FloodKind, ...] = ("tool_args", "sse_line", "json_body", "reasoning")


async def _ticker(gaps: list[float]) -> None:
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.01)
        now = time.monotonic()
        gaps.append(now - last - 0.01)
        last = now


async def _one(kind: FloodKind, max_tokens: int, flood_bytes: int) -> None:
    async with (
        FakeGonka() as gonka,
        AsyncOpenAI(
            api_key=gonka.api_key,
            base_url=gonka.base_url + "/v1",
            http_client=DefaultAioHttpClient(),
            max_retries=0,
        ) as client,
    ):
        gonka.enqueue(Reply(flood=Flood(kind, size=flood_bytes)))
        gateway = GonkaGateway(client)
        gaps: list[float] = []
        ticker = asyncio.create_task(_ticker(gaps))
        wall, cpu = time.monotonic(), time.process_time()
        outcome, chars = "read to the end", 0
        stream = gateway.stream(MODEL, [{"role": "user", "content": "hi"}], max_tokens)
        try:
            async for event in stream:
                if isinstance(event, ReasoningDelta):
                    chars += len(event.text)
                    if chars > max_tokens * ANSWER_CHARS_PER_TOKEN:
                        outcome = "character cap"
                        break
        except AnswerOversize as exc:
            outcome = f"AnswerOversize ({exc})"
        finally:
            await stream.aclose()
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        await gonka.wait_idle()
        ticker.cancel()
        sent = gonka.request_log[0].sent_bytes[0]
        print(
            f"{kind:10} {outcome:50} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms  "
            f"sent {sent / 1024 / 1024:6.2f} MB  loop stall max {max(gaps, default=0) * 1000:5.1f} ms"
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-tokens", type=int, default=2048)
    parser.add_argument("--flood-mb", type=int, default=60)
    args = parser.parse_args()
    print(f"MAX_TOKENS {args.max_tokens}: cap {args.max_tokens * ANSWER_CHARS_PER_TOKEN} chars")
    for kind in KINDS:
        await _one(kind, args.max_tokens, args.flood_mb * 1024 * 1024)


if __name__ == "__main__":
    asyncio.run(main())
