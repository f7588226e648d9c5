"""SDK errors -> domain errors, by the status AND what the body says.

Bodies seen on Gonka proxies and other OpenAI-compatible gateways: `{"error": {"message", "type",
"code"}}`, `{"error": "<string>"}`, `{"detail": "..."}` and plain text. The SDK hands over the
inner `error` object (or the string, or the whole `{"detail": ...}` body) as `exc.body`.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import cast

import aiohttp
import httpx2
import openai

from bot.core.errors import (
    InsufficientBalance,
    ModelUnavailable,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamBusy,
    UpstreamContextTooLong,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)

# LiteLLM: 400 "Invalid model name passed in model=…"; Gonka: 404 "model … is not available";
# OpenAI: code "model_not_found"; others: "model … does not exist" / "unknown model".
_MODEL_MISSING = re.compile(
    r"invalid model name|model_not_found|unknown model|no such model|"
    r"model\b.{0,200}\b(not available|not found|does not exist|not supported)",
    re.IGNORECASE | re.DOTALL,
)
_CONTEXT = re.compile(
    r"context[ _]length|context window|maximum context|too many tokens|prompt is too long|"
    r"reduce the length|input is too long",
    re.IGNORECASE,
)
# The SDK's classes of status errors (openai._client._make_status_error).
_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}
# What of an error body is read: enough for any error message; the SDK itself would read all.
ERROR_BODY_MAX = 64 * 1024

_BALANCE = re.compile(r"insufficient (balance|funds)", re.IGNORECASE)
_BUSY = re.compile(r"too many (concurrent )?requests|rate limit", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What an error body says, whatever its shape."""

    type: str = ""
    code: str = ""
    message: str = ""

    @property
    def text(self) -> str:
        return f"{self.type} {self.code} {self.message}"


def read_body(body: object) -> ErrorBody:
    """The type, code and message of an error body of any of the shapes seen."""
    if isinstance(body, str):
        return ErrorBody(message=body)
    if not isinstance(body, dict):
        return ErrorBody()
    inner = body.get("error", body)
    if isinstance(inner, str):
        return ErrorBody(message=inner)
    if not isinstance(inner, dict):
        return ErrorBody()
    message = inner.get("message", inner.get("detail", ""))
    if not isinstance(message, str):
        message = str(message)  # {"detail": [...]} of FastAPI validation errors
    return ErrorBody(str(inner.get("type") or ""), str(inner.get("code") or ""), message)


def map_status_error(exc: openai.APIStatusError) -> UpstreamError:
    """A status error -> the domain error; the body decides where the status alone cannot."""
    return classify(exc.status_code, read_body(exc.body))


def classify(status: int, body: ErrorBody) -> UpstreamError:
    """The domain error for `status` and what its body says (a message short enough to log)."""
    detail = f"{status} {body.type or body.code or ''}".strip()
    text = body.text
    if status in (401, 403):
        return UpstreamAuthError(detail)
    if status == 402 or (status in (400, 403) and _BALANCE.search(body.message)):
        return InsufficientBalance(detail)
    if status == 404 or _MODEL_MISSING.search(text):
        return ModelUnavailable(detail)
    if status == 429 or _BUSY.search(body.message):
        return UpstreamBusy(detail)
    if status == 413 or body.code == "context_length_exceeded" or _CONTEXT.search(text):
        return UpstreamContextTooLong(detail)
    if status in (400, 422):
        return UpstreamBadRequest(detail)
    return UpstreamUnavailable(detail)


def map_transport_error(exc: openai.APIConnectionError, what: str) -> UpstreamError:
    """A failure before any status: unreachable (refused, DNS, no route) is not a timeout.

    The SDK's aiohttp transport maps every aiohttp connection error, a refused connection
    included, to httpx's ConnectTimeout, which the SDK raises as APITimeoutError; the aiohttp
    error is still in the chain of causes.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(
            cause, aiohttp.ClientConnectorError | socket.gaierror | ConnectionRefusedError
        ):
            return UpstreamUnreachable(f"{what}: {type(cause).__name__}")
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeout(what)
    return UpstreamUnavailable(what)


async def bound_error_body(response: httpx2.Response) -> None:
    """An httpx response hook: a 4xx/5xx body is read here, at most ERROR_BODY_MAX bytes, and
    raised as the SDK's APIStatusError (which the SDK passes on as it is). The SDK would read
    the whole body into memory first, however large a hostile proxy makes it."""
    if response.status_code < 400:
        return
    data = bytearray()
    try:
        async for chunk in cast(AsyncIterable[bytes], response.stream):
            data += chunk
            if len(data) > ERROR_BODY_MAX:
                break
    finally:
        await response.aclose()
    text = bytes(data[:ERROR_BODY_MAX]).decode("utf-8", "replace")
    try:
        parsed: object = json.loads(text)
    except ValueError:
        parsed = text.strip()
    # The error the SDK would raise: its class by status, the inner `error` of a JSON object.
    body = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    status = response.status_code
    kind = _STATUS_ERRORS.get(status, openai.InternalServerError if status >= 500 else None)
    raise (kind or openai.APIStatusError)(f"Error code: {status}", response=response, body=body)


def gonka_http_client() -> httpx2.AsyncClient:
    """The SDK's aiohttp transport, with error bodies bounded (bound_error_body)."""
    return openai.DefaultAioHttpClient(event_hooks={"response": [bound_error_body]})
