"""Fake SearXNG `/search`: the JSON shape of a real instance, 403 when JSON is not enabled."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from tests.doubles.local_server import LocalServer


def result(title: str, url: str, content: str, engine: str = "duckduckgo") -> dict[str, Any]:
    return {
        "url": url, "title": title, "content": content, "engine": engine,
        "parsed_url": ["https", url.split("/")[2], "/" + "/".join(url.split("/")[3:]), "", "", ""],
        "template": "default.html", "engines": [engine, "brave"], "positions": [1, 2],
        "publishedDate": None, "thumbnail": "", "score": 4.0, "category": "general",
        "priority": "",
    }  # fmt: skip


class FakeSearxng(LocalServer):
    """`piece`: the JSON body is written in pieces of this many bytes (0: at once), with
    `pause` seconds between them, as a slow or proxied instance delivers it."""

    def __init__(self, json_enabled: bool = True, piece: int = 0, pause: float = 0.0) -> None:
        super().__init__()
        self.json_enabled = json_enabled
        self.piece = piece
        self.pause = pause
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.answers: dict[str, list[dict[str, Any]]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/search", self._search)

    async def _search(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("format") != "json":
            return web.Response(text="<html>results page</html>", content_type="text/html")
        if not self.json_enabled:
            return web.Response(status=403, text="Forbidden", content_type="text/plain")
        query = request.query.get("q", "")
        results = self.results.get(query, [])
        body = {
            "query": query, "number_of_results": 0, "results": results,
            "answers": self.answers.get(query, []), "corrections": [], "infoboxes": [],
            "suggestions": ["gonka network", "gonka ai"] if not results else [],
            "unresponsive_engines": [["wikidata", "timeout"]],
        }  # fmt: skip
        if not self.piece:
            return web.json_response(body)
        return await self._in_pieces(request, json.dumps(body).encode())

    async def _in_pieces(self, request: web.Request, data: bytes) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):  # the client stopped reading
            for start in range(0, len(data), self.piece):
                await response.write(data[start : start + self.piece])
                await asyncio.sleep(self.pause)
            await response.write_eof()
        return response
