"""LLMGateway on the official openai SDK: Gonka's SSE stream -> typed events, SDK errors -> domain."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Sequence
from typing import cast

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from bot.core.errors import (
    InsufficientBalance,
    ModelUnavailable,
    StreamBroken,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamBusy,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bot.core.models import (
    Finished,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    Usage,
    UsageReport,
)

log = logging.getLogger(__name__)

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}


def map_status_error(exc: openai.APIStatusError) -> UpstreamError:
    """Gonka's status codes -> domain errors. Bodies vary ({"error": str|obj}, {"detail": ...})."""
    status = exc.status_code
    if status in (401, 403):
        return UpstreamAuthError(str(status))
    if status == 402:
        return InsufficientBalance(str(status))
    if status == 404:
        return ModelUnavailable(str(status))
    if status == 429:
        return UpstreamBusy(str(status))
    if status in (400, 413, 422):
        return UpstreamBadRequest(str(status))
    return UpstreamUnavailable(str(status))


class GonkaGateway:
    """Streams chat completions. Retries before the first byte are the SDK's own (max_retries)."""

    def __init__(self, client: AsyncOpenAI, temperature: float | None = None) -> None:
        self._client = client
        self._temperature = temperature

    async def stream(
        self, model: str, messages: Sequence[dict[str, str]], max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]:
        try:
            response = await self._client.chat.completions.create(
                model=model,
                messages=cast(list[ChatCompletionMessageParam], list(messages)),
                max_tokens=max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                temperature=openai.omit if self._temperature is None else self._temperature,
            )
        except openai.APIStatusError as exc:
            raise map_status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise UpstreamTimeout("no response") from exc
        except openai.APIConnectionError as exc:
            raise UpstreamUnavailable("connection failed") from exc

        finished = False
        try:
            async for chunk in response:
                if chunk.usage is not None:
                    yield UsageReport(
                        Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                    )
                for choice in chunk.choices:
                    delta = choice.delta
                    reasoning = getattr(delta, "reasoning_content", None)
                    if isinstance(reasoning, str) and reasoning:
                        yield ReasoningDelta(reasoning)
                    if delta.content:
                        yield TextDelta(delta.content)
                    if choice.finish_reason:
                        finished = True
                        yield Finished(_FINISH.get(choice.finish_reason, "other"))
        except (openai.APIError, json.JSONDecodeError) as exc:
            # An error event, a plain-text error line, a reset connection or a read timeout inside
            # the 200 stream. After finish_reason the answer is whole: only the usage chunk is lost.
            if not finished:
                raise StreamBroken(type(exc).__name__) from exc
            log.warning("upstream stream broke after finish_reason error=%s", type(exc).__name__)
        finally:
            await response.close()
        if not finished:
            raise StreamBroken("stream ended without finish_reason")
