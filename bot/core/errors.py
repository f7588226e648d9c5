"""Domain errors: one error handler turns each into user text."""

from __future__ import annotations


class BotError(Exception):
    """Base of the errors a user is told about."""

    text_key: str = "error_generic"


class ContextTooLong(BotError):
    text_key = "error_too_long"

    def __init__(self, tokens: int, limit: int) -> None:
        super().__init__(f"message needs {tokens} tokens, limit {limit}")
        self.tokens = tokens
        self.limit = limit


class UpstreamError(BotError):
    """The LLM upstream failed; `kind` names the failure for logs and metrics."""

    kind = "upstream"
    text_key = "error_upstream"


class UpstreamAuthError(UpstreamError):
    kind = "auth"
    text_key = "error_auth"


class InsufficientBalance(UpstreamError):
    kind = "balance"
    text_key = "error_balance"


class ModelUnavailable(UpstreamError):
    kind = "model"
    text_key = "error_model"


class UpstreamBusy(UpstreamError):
    kind = "busy"
    text_key = "error_busy"


class UpstreamTimeout(UpstreamError):
    kind = "timeout"
    text_key = "error_timeout"


class UpstreamUnavailable(UpstreamError):
    kind = "unavailable"
    text_key = "error_unavailable"


class UpstreamBadRequest(UpstreamError):
    kind = "bad_request"
    text_key = "error_bad_request"


class StreamBroken(UpstreamError):
    """The stream ended abnormally after it had started (cut, reset, error event)."""

    kind = "stream_broken"
    text_key = "error_interrupted"


class StorageUnavailable(BotError):
    text_key = "error_storage"
