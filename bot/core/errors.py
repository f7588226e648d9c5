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
    notified_key: str | None = None  # the text once the bot's admins were told

    def owner_notified(self) -> None:
        """The bot's admins were sent a message about this failure: the user may be told so."""
        if self.notified_key is not None:
            self.text_key = self.notified_key


class UpstreamAuthError(UpstreamError):
    """401/403: the key is wrong. The bot's admins are told (AdminAlerts)."""

    kind = "auth"
    text_key = "error_auth_plain"
    notified_key = "error_auth"


class InsufficientBalance(UpstreamError):
    """402: the bot's balance ran out. The bot's admins are told (AdminAlerts)."""

    kind = "balance"
    text_key = "error_balance"
    notified_key = "error_balance_notified"


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


class UpstreamUnreachable(UpstreamUnavailable):
    """No connection at all (refused, DNS, no route): not a timeout."""

    kind = "unreachable"
    text_key = "error_unreachable"


class UpstreamBadRequest(UpstreamError):
    """The upstream refused the request for a reason that is not the history's length."""

    kind = "bad_request"
    text_key = "error_rejected"


class UpstreamContextTooLong(UpstreamBadRequest):
    """The upstream says the conversation does not fit the model: /new helps here."""

    kind = "context"
    text_key = "error_bad_request"


class AnswerTimedOut(UpstreamTimeout):
    """The answer's deadline passed, or no content came for the idle timeout (keep-alive
    comments do not count), before any text arrived."""

    kind = "answer_timeout"


class StreamBroken(UpstreamError):
    """The stream ended abnormally after it had started (cut, reset, error event)."""

    kind = "stream_broken"
    text_key = "error_interrupted"


class AnswerOversize(StreamBroken):
    """The upstream sent more than one answer may hold: one SSE line, a whole body or the tool
    calls' arguments past the answer's size cap. Reading stopped there; none of it is sent
    upstream again."""

    kind = "oversize"
    text_key = "error_oversize"


class StorageUnavailable(BotError):
    text_key = "error_storage"
