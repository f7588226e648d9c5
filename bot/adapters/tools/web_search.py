"""web_search(query) on a SearXNG instance's JSON API (`/search?format=json`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.adapters.tools.http import get_json
from bot.core.tools import StatusLine, ToolError, ToolSpec, short

TOP_RESULTS = 5


class SearxngSearchTool:
    """The top results with title, URL and snippet; SearXNG's direct answers first."""

    spec = ToolSpec.one_string(
        "web_search",
        "Search the web; returns the top results with title, URL and snippet",
        "query",
    )

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/search"

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_web_search", short(args.get("query", "")))

    async def run(self, args: Mapping[str, Any]) -> str:
        query = " ".join(str(args["query"]).split())
        if not query:
            raise ToolError("The search query is empty.")
        params: dict[str, str | int | float] = {"q": query, "format": "json", "safesearch": 1}
        try:
            data = await get_json(self._session, self._url, params, "The search service")
        except ToolError as exc:
            if "HTTP 403" in str(exc):
                raise ToolError(
                    "The search service refused a JSON answer (its settings must list json "
                    "under search.formats)."
                ) from None
            raise
        if not isinstance(data, dict):
            raise ToolError("The search service sent an unexpected answer.")
        return _describe(query, data)


def _describe(query: str, data: dict[str, Any]) -> str:
    lines = [f"Search results for {query!r}:"]
    for answer in data.get("answers") or ():
        text = answer.get("answer") if isinstance(answer, dict) else answer
        if text:
            lines.append(f"Answer: {short(text, 500)}")
    results = [r for r in data.get("results") or () if isinstance(r, dict) and r.get("url")]
    for number, result in enumerate(results[:TOP_RESULTS], 1):
        title = short(result.get("title") or result["url"], 200)
        snippet = short(result.get("content") or "", 400)
        lines.append(f"{number}. {title}\n{result['url']}\n{snippet}".rstrip())
    if len(lines) == 1:
        suggestions = ", ".join(str(s) for s in (data.get("suggestions") or ())[:5])
        hint = f" Suggestions: {suggestions}." if suggestions else ""
        return f"No results for {query!r}.{hint}"
    return "\n\n".join(lines)
