"""web_search against a fake SearXNG instance."""

from __future__ import annotations

import pytest

from bot.adapters.tools.http import tool_session
from bot.adapters.tools.web_search import SearxngSearchTool
from bot.core.tools import ToolError
from tests.doubles.fake_searxng import FakeSearxng, result
from tests.fakes import shown


async def test_top_results_with_title_url_and_snippet() -> None:
    async with FakeSearxng() as searx, tool_session() as session:
        searx.results["gonka"] = [
            result(f"Gonka {n}", f"https://example.com/{n}", f"Snippet {n}.") for n in range(1, 8)
        ]
        searx.answers["gonka"] = [{"answer": "Gonka is a decentralized AI network.", "url": None}]
        tool = SearxngSearchTool(session, searx.url("/"))
        text = await tool.run({"query": "  gonka "})
        blocks = text.split("\n\n")
        assert blocks[0] == "Search results for 'gonka':"
        assert blocks[1] == "Answer: Gonka is a decentralized AI network."
        assert blocks[2] == "1. Gonka 1\nhttps://example.com/1\nSnippet 1."
        assert len(blocks) == 2 + 5
        assert searx.paths[0].startswith("/search?q=gonka&format=json")


async def test_no_results_and_json_not_enabled() -> None:
    async with FakeSearxng() as searx, tool_session() as session:
        tool = SearxngSearchTool(session, searx.url())
        text = await tool.run({"query": "qwzx"})
        assert text == "No results for 'qwzx'. Suggestions: gonka network, gonka ai."
        searx.json_enabled = False
        with pytest.raises(ToolError, match="refused a JSON answer"):
            await tool.run({"query": "qwzx"})
        assert shown(tool, {"query": "погода"}, "ru") == "🔎 Ищу: погода…"
