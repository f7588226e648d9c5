"""Web pages for fetch_url: an article, redirects anywhere, a binary, a huge page, errors.

`InternalService` stands for something on the bot's own network (a metadata endpoint, an admin
panel): tests assert it is never reached.
"""

from __future__ import annotations

from aiohttp import web

from tests.doubles.local_server import LocalServer

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gonka weekly</title></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About</a> | <a href="/login">Log in</a></nav>
<article>
<h1>The network doubled its capacity</h1>
<p>This week the Gonka network doubled the number of hosts serving inference. Operators in
twelve countries joined, and the median latency of a request fell to 180 milliseconds.</p>
<p>The next release adds tool calling to the proxy, so models can look up the weather and
read web pages for their users.</p>
</article>
<footer>© 2026 Gonka weekly. All rights reserved. Cookie settings.</footer>
</body></html>
"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


class PageServer(LocalServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/article", self._article)
        app.router.add_get("/plain", self._plain)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/loop", self._loop)
        app.router.add_get("/image.png", self._image)
        app.router.add_get("/disguised", self._disguised)
        app.router.add_get("/huge", self._huge)
        app.router.add_get("/empty", self._empty)
        app.router.add_get("/crafted", self._crafted)

    async def _article(self, request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE, content_type="text/html", charset="utf-8")

    async def _plain(self, request: web.Request) -> web.Response:
        text = "Привет: plain text in windows-1251."
        return web.Response(
            body=text.encode("cp1251"), content_type="text/plain", charset="windows-1251"
        )

    async def _redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def _loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(body=PNG * 100, content_type="image/png")

    async def _disguised(self, request: web.Request) -> web.Response:
        return web.Response(body=PNG * 100, content_type="text/html")

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        await response.prepare(request)
        await response.write(b"<html><body><article>")
        sentence = "All work and no play makes paragraph {} of the page very long. "
        try:
            for number in range(8 * 1024 * 1024 // 1300):  # 8 MiB of distinct paragraphs
                await response.write(f"<p>{sentence.format(number) * 20}</p>\n".encode())
            await response.write(b"</article></body></html>")
        except ConnectionError:
            pass  # the client stopped reading at its limit, as it should
        return response

    async def _crafted(self, request: web.Request) -> web.Response:
        """2 MB of tiny table cells: seconds of trafilatura's CPU per call (issue 25)."""
        row = "<tr><td>a</td><td>b</td></tr>"
        body = f"<html><body><table>{row * (2 * 1024 * 1024 // len(row))}</table></body></html>"
        return web.Response(text=body, content_type="text/html")

    async def _empty(self, request: web.Request) -> web.Response:
        return web.Response(text="<html><body></body></html>", content_type="text/html")


class InternalService(LocalServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/{tail:.*}", self._secret)

    async def _secret(self, request: web.Request) -> web.Response:
        return web.Response(text="instance credentials: AKIA-SECRET", content_type="text/plain")
