"""get_json reads a tool's JSON reply to its end, however it is cut, within a size limit."""

from __future__ import annotations

import pytest

from bot.adapters.tools.http import MAX_JSON_BYTES, get_json, tool_session
from bot.adapters.tools.web_search import SearxngSearchTool
from bot.core.tools import ToolError
from tests.doubles.fake_searxng import FakeSearxng, result


def _results(count: int, snippet: int) -> list[dict[str, object]]:
    return [result(f"Gonka {n}", f"https://example.com/{n}", "x" * snippet) for n in range(count)]


async def test_a_20_kb_answer_in_1_kb_pieces_is_read_whole() -> None:
    async with FakeSearxng(piece=1024, pause=0.005) as searx, tool_session() as session:
        searx.results["gonka"] = _results(40, 300)
        tool = SearxngSearchTool(session, searx.url())
        text = await tool.run({"query": "gonka"})
    assert text.startswith("Search results for 'gonka':")
    assert "5. Gonka 4\nhttps://example.com/4\n" in text


async def test_a_valid_1_6_mb_answer_is_read_and_a_larger_one_refused() -> None:
    async with FakeSearxng(piece=16 * 1024) as searx, tool_session() as session:
        searx.results["big"] = _results(160, 10_000)
        data = await get_json(session, searx.url("/search"), {"q": "big", "format": "json"}, "S")
        assert len(data["results"]) == 160
        searx.results["huge"] = _results(MAX_JSON_BYTES // 10_000 + 10, 10_000)
        with pytest.raises(ToolError, match="too large"):
            await get_json(session, searx.url("/search"), {"q": "huge", "format": "json"}, "S")
