"""StreamSink when a live update fails: the final answer still goes, and closing stays quiet."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.models import Reply, Usage
from bot.telegram.streaming import StreamSink


class _BrokenLive:
    """A painter whose live updates fail with an unexpected error; the final answer works."""

    def __init__(self) -> None:
        self.finished: list[str] = []

    async def begin(self) -> None:
        return None

    def idle_timeout(self, has_text: bool) -> float:
        return 60.0

    async def keepalive(self, text: str, reasoning: str) -> None:
        return None

    def ready_in(self) -> float:
        return 0.0

    async def paint(self, text: str, reasoning: str, status: str = "") -> None:
        raise RuntimeError("live update broke")

    async def finish(self, reply: Reply) -> None:
        self.finished.append(reply.text)

    async def fail(self, text: str) -> None:
        return None


async def test_a_failed_live_update_does_not_lose_the_answer_or_break_closing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    painter = _BrokenLive()
    sink = StreamSink(painter)
    await sink.started()
    sink.update("Hello", "")
    for _ in range(5):  # let the sender loop paint (and fail)
        await asyncio.sleep(0)
    await sink.finish(Reply("Hello world", "", "complete", Usage(1, 2), usage_estimated=False))
    await sink.close()  # the caller's cleanup closes again: it must not raise
    assert painter.finished == ["Hello world"]
    assert "live update broke" not in caplog.text  # logged by type: the text may be the answer's
    assert "RuntimeError" in caplog.text
