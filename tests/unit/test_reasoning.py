from __future__ import annotations

import pytest

from bot.formatting.reasoning import ThinkSplitter

TEXT = "<think>let me see: 2+2</think>The answer is 4 <not a tag>."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_think_split_at_any_chunking(size: int) -> None:
    splitter = ThinkSplitter()
    answer = reasoning = ""
    for start in range(0, len(TEXT), size):
        a, r = splitter.feed(TEXT[start : start + size])
        answer += a
        reasoning += r
    a, r = splitter.flush()
    assert answer + a == "The answer is 4 <not a tag>."
    assert reasoning + r == "let me see: 2+2"


def test_unclosed_think_stays_reasoning() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<think>still thinking <") == ("", "still thinking ")
    assert splitter.flush() == ("", "<")
