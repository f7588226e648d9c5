"""Inline answers through the real bot: the time from the user's choice to the first edit with
answer text, and the edits per answer, at the default cadence and Telegram's flood limits.

    python bench/inline_bench.py [--answers 6] [--chars 2000] [--seconds 8]

The whole bot runs against the fake Telegram and the fake Gonka on 127.0.0.1, as in the e2e
tests, with the default settings (inline edits paced like a group's: GROUP_EDIT_INTERVAL). Each
of `--answers` users types a question and picks its result at once, all together; the fake
Gonka streams a `--chars` answer over `--seconds`. Reported: the choice -> first edit with text
(p50/max), the edits per answer, the 429s met (the target is none) and whether every final
text landed whole.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.coalesce_bench import percentile
from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import Env, running_env

GROUP = -100_777


async def one(env: Env, user: int, text: str) -> tuple[float, str]:
    """Type, pick, and wait for the first edit that shows answer text: (seconds, inline id)."""
    query_id = await env.telegram.send_inline_query(user, f"question {user}")
    await env.telegram.wait_for(lambda: query_id in env.telegram.inline_answers)
    result = env.telegram.inline_answers[query_id]["results"][0]
    chosen = time.monotonic()
    inline_id = await env.telegram.choose_inline_result(query_id, result["id"], GROUP)
    assert inline_id is not None
    await env.telegram.wait_for(lambda: env.telegram.inline_message(inline_id).edits > 0)
    return time.monotonic() - chosen, inline_id


async def measure(answers: int, chars: int, seconds: float) -> int:
    words = ("lorem ipsum dolor sit amet " * (chars // 27 + 1))[:chars].strip()
    text = "Answer: " + words
    async with running_env(flood_messages=0) as env:
        chunk = 8
        delay = seconds / max(1, len(text) // chunk)
        env.gonka.enqueue(*[Reply(text=text, chunk_chars=chunk, token_delay=delay)] * answers)
        results = await asyncio.gather(*(one(env, 50_000 + n, text) for n in range(answers)))
        ids = [inline_id for _, inline_id in results]
        await env.telegram.wait_for(
            lambda: all(env.telegram.inline_text(i) == text for i in ids), timeout=seconds * 4 + 30
        )
        edits = [env.telegram.inline_message(i).edits for i in ids]
        first = [delay * 1000 for delay, _ in results]
        count_429 = sum(1 for c in env.telegram.calls_of("editMessageText") if c.status == 429)
    print(f"inline answers: {answers} at once, {len(text)} characters over {seconds:.0f} s each")
    print(
        f"choice -> first edit with text: p50 {percentile(first, 50):7.1f} ms   "
        f"max {max(first):7.1f} ms"
    )
    print(f"edits per answer: min {min(edits)}  max {max(edits)}  (all final texts whole)")
    print(f"429s met: {count_429}")
    return 0 if count_429 == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--answers", type=int, default=6)
    parser.add_argument("--chars", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(measure(args.answers, args.chars, args.seconds))


if __name__ == "__main__":
    raise SystemExit(main())
