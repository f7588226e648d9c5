"""An HTTP client for MCP servers with a bound on one message.

The SDK's streamable HTTP client reads a JSON answer whole (`response.aread()`) and joins an SSE
event's lines until a blank line comes: a server answering without end grew the bot until the
call's timeout. Here every response body is counted as it arrives: a JSON body is one message,
an event stream is counted from one event's end to the next. Past `max_bytes` the response is
closed (the rest is never read) and the server is told lost, so its pending calls fail at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx2

EVENT_ENDS = (b"\n\n", b"\r\n\r\n")


class MessageTooBig(httpx2.ReadError):
    """A server's message passed the limit."""


class _BoundedBody(httpx2.AsyncByteStream):
    def __init__(
        self,
        inner: httpx2.AsyncByteStream,
        max_bytes: int,
        events: bool,
        lost: Callable[[str], None],
    ) -> None:
        self._inner, self._max, self._events, self._lost = inner, max_bytes, events, lost

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size, tail = 0, b""
        async for chunk in self._inner:
            size += len(chunk)
            if self._events:
                seen = tail + chunk  # an event's end may straddle two chunks
                ends = [seen.rfind(mark) + len(mark) for mark in EVENT_ENDS if mark in seen]
                if ends:
                    size = len(seen) - max(ends)  # what the next event has so far
                tail = seen[-3:]
            if size > self._max:
                await self._inner.aclose()
                why = f"a message over {self._max} bytes"
                self._lost(why)
                raise MessageTooBig(why)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class BoundedTransport(httpx2.AsyncBaseTransport):
    """Bounds each message of the responses through `inner` (see the module's docstring)."""

    def __init__(
        self,
        max_bytes: int,
        lost: Callable[[str], None],
        inner: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self._inner = inner or httpx2.AsyncHTTPTransport()
        self._max, self._lost = max_bytes, lost

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        events = response.headers.get("content-type", "").lower().startswith("text/event-stream")
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        body = _BoundedBody(response.stream, self._max, events, self._lost)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=body,
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
