"""Servers below HTTP that misbehave as real networks and proxies do: one that accepts and never
answers, and a Bot API behind a broken proxy (malformed replies, connections dropped)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
from typing import Any, Self

from tests.doubles.fake_telegram import DEFAULT_TOKEN


class RawServer:
    """An asyncio TCP server on 127.0.0.1 with a free port; subclasses handle connections."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await self.handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class SilentServer(RawServer):
    """Accepts the connection and reads the request, never answers (a stuck proxy, a firewall
    that swallows packets after the handshake)."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up


async def read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """One HTTP/1.1 request: its path and body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    lines = head.split("\r\n")
    path = lines[0].split(" ")[1]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return path, await reader.readexactly(length)


# Start-up calls a bot may make besides getMe: they pass, the breakage is for what follows.
SETUP_CALLS = ("deleteWebhook", "setMyCommands", "deleteMyCommands", "setMyDescription")


class BrokenProxyBotApi(RawServer):
    """A Bot API behind a proxy that breaks: getMe, deleteWebhook and the first getUpdates
    (one private message) pass; every later call gets, in turn, a malformed HTTP reply or its
    connection dropped without a word. Calls to an unknown token get Telegram's 401.

    With `echo`, every later call is answered instead by the proxy's own error page, which
    echoes the path with ':' percent-encoded as Express does (404 "Cannot POST /bot1%3AAA…/x").
    """

    def __init__(self, token: str = DEFAULT_TOKEN, user_id: int = 4343, echo: bool = False) -> None:
        super().__init__()
        self.token = token
        self.echo = echo
        self.user_id = user_id
        self.calls: list[str] = []
        self.broken = 0
        self._delivered = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            path, _ = await read_request(reader)
            token, _, method = path.removeprefix("/bot").partition("/")
            self.calls.append(method)
            if token != self.token:
                self._json(
                    writer, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                )
            elif result := self._answer(method):
                self._json(writer, 200, {"ok": True, "result": result[0]})
            elif self.echo:
                self.broken += 1
                self._echo(writer, path)
            else:
                self.broken += 1
                if self.broken % 2:
                    writer.write(b"HTTP/1.1 OK\r\nContent-Length: nope\r\n\r\n")
                    await writer.drain()
                return  # the connection is closed: dropped, or after the malformed reply

    def _answer(self, method: str) -> tuple[Any] | None:
        if method == "getMe":
            return ({"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Bot",
                     "username": "broken_proxy_bot", "can_join_groups": True,
                     "can_read_all_group_messages": False, "supports_inline_queries": False},)  # fmt: skip
        if method in SETUP_CALLS:
            return (True,)
        if method == "getUpdates" and not self._delivered:
            self._delivered = True
            user = {"id": self.user_id, "is_bot": False, "first_name": "U", "language_code": "en"}
            message = {"message_id": 1, "date": 1700000000, "text": "hello",
                       "chat": {"id": self.user_id, "type": "private", "first_name": "U"},
                       "from": user}  # fmt: skip
            return ([{"update_id": 1, "message": message}],)
        return None

    @staticmethod
    def _echo(writer: asyncio.StreamWriter, path: str) -> None:
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>Error</title>\n</head>\n<body>\n"
            f"<pre>Cannot POST {urllib.parse.quote(path)}</pre>\n</body>\n</html>\n"
        ).encode()
        writer.write(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n"
            + f"Content-Length: {len(page)}\r\n\r\n".encode()
            + page
        )

    @staticmethod
    def _json(writer: asyncio.StreamWriter, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        reason = "OK" if status == 200 else "Unauthorized"
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
