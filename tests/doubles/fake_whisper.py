"""Fake OpenAI-compatible transcription endpoint: `POST /v1/audio/transcriptions`, multipart.

Like OpenAI's: 401 {"error": {...}} without the bearer key, 400 "Invalid file format" for an
extension it does not take (`.oga` among them), and `{"text": ...}` otherwise. A test sets
`transcript`, or `status` to fail, or `delay` to be slow; `requests` keeps what each call sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.doubles.local_server import LocalServer

ACCEPTED = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm")


@dataclass
class Received:
    authorization: str
    model: str
    language: str | None
    file_name: str
    data: bytes


def _error(status: int, message: str, kind: str) -> web.Response:
    body: dict[str, Any] = {"error": {"message": message, "type": kind, "param": None,
                                      "code": None}}  # fmt: skip
    return web.json_response(body, status=status)


class FakeWhisper(LocalServer):
    def __init__(self, api_key: str = "sk-whisper-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.transcript = "What is the capital of France?"
        self.status = 200
        self.delay = 0.0
        self.requests: list[Received] = []
        self.in_flight = 0
        self.most_in_flight = 0

    @property
    def base_url(self) -> str:
        return self.url("/v1")

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)

    async def _transcribe(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        fields: dict[str, str] = {}
        file_name, data = "", b""
        async for part in await request.multipart():
            if part.name == "file":
                file_name = part.filename or ""  # type: ignore[union-attr]
                data = await part.read()  # type: ignore[union-attr]
            elif part.name:
                fields[part.name] = await part.text()  # type: ignore[union-attr]
        self.requests.append(
            Received(request.headers["Authorization"], fields.get("model", ""),
                     fields.get("language"), file_name, bytes(data))
        )  # fmt: skip
        if file_name.rsplit(".", 1)[-1] not in ACCEPTED:
            message = f"Invalid file format. Supported formats: {list(ACCEPTED)}"
            return _error(400, message, "invalid_request_error")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if self.status != 200:
            return _error(self.status, "The server had an error.", "server_error")
        return web.json_response({"text": self.transcript})
