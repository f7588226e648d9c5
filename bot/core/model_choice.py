"""Which model answers in a chat: admins' choices checked against the live catalogue, with fallback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.bounded import Recent
from bot.core.errors import UpstreamError
from bot.core.models import ChatSettings
from bot.core.ports import ModelCatalog, ModelStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The model to call; `wanted` is what settings or admins chose, `model` what is available."""

    model: str
    wanted: str
    notice: bool = False  # the chat has not been told yet that `wanted` is replaced by `model`

    @property
    def replaced(self) -> bool:
        return self.model != self.wanted


@dataclass(frozen=True, slots=True)
class ModelState:
    """What /model shows: the chat's own choice, the default, and the model that will answer."""

    chat_model: str | None
    default_model: str
    effective: str
    available: list[str]


class ModelResolver:
    """Resolves a chat's model against the live list; never raises for an unknown model name."""

    def __init__(
        self,
        catalog: ModelCatalog,
        store: ModelStore,
        configured: str,
        fallbacks: Sequence[str] = (),
        forget_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = catalog
        self._store = store
        self._configured = configured
        self._fallbacks = list(fallbacks)
        self._forget_after = forget_after
        self._clock = clock
        self._unavailable: dict[str, float] = {}  # model -> when a request answered 404
        self._told: Recent[tuple[int, str], None] = Recent()  # not one entry per chat for ever
        self._logged: set[str] = set()

    async def available(self) -> list[str]:
        """The live list minus models that recently answered 404; empty when it cannot be read."""
        try:
            listed = await self._catalog.models()
        except UpstreamError as exc:
            log.warning("model list unavailable error=%s", type(exc).__name__)
            return []
        now = self._clock()
        for model, since in list(self._unavailable.items()):
            if now - since > self._forget_after:
                del self._unavailable[model]
        return [m for m in listed if m not in self._unavailable]

    async def state(self, chat_id: int) -> ModelState:
        default, chat_model = await self._store.chosen(chat_id)
        available = await self.available()
        default = default or self._configured
        effective = self._pick(chat_model or default, available)
        return ModelState(chat_model, default, effective, available)

    async def current(self, chat_id: int) -> str:
        """The model the chat's next request would use, announcing nothing (`resolve` tells
        the user of a replacement once: a look-up ahead of it must not use that up)."""
        default, chat_model = await self._store.chosen(chat_id)
        return self._pick(chat_model or default or self._configured, await self.available())

    async def resolve(self, chat_id: int, settings: ChatSettings | None = None) -> ModelChoice:
        """The model for the chat's next request; a replacement is announced once per chat.
        `settings`: the chat's, already read for the turn (None: its choices are read)."""
        if settings is None:
            default, chat_model = await self._store.chosen(chat_id)
        else:
            default, chat_model = settings.default_model, settings.chat_model
        wanted = chat_model or default or self._configured
        model = self._pick(wanted, await self.available())
        if model == wanted:
            return ModelChoice(model, wanted)
        if wanted not in self._logged:
            self._logged.add(wanted)
            log.warning("model unavailable, falling back model=%s fallback=%s", wanted, model)
        notice = (chat_id, wanted) not in self._told
        self._told.add((chat_id, wanted))
        return ModelChoice(model, wanted, notice)

    def mark_unavailable(self, model: str) -> None:
        """A request answered 404 for `model`: avoid it until the catalogue is read again."""
        log.warning("model answered not available model=%s", model)
        self._unavailable[model] = self._clock()
        self._logged.discard(model)
        self._catalog.invalidate()

    async def startup_check(self) -> None:
        """Check the configured model against the live list (a replacement is logged)."""
        choice = await self.resolve(0)
        if not choice.replaced:
            log.info("model checked model=%s", choice.model)

    async def set_default(self, model: str | None) -> bool:
        """Set (or clear, with None) the default model of every chat; False when not listed."""
        if model is not None and model not in await self.available():
            return False
        await self._store.set_default(model)
        return True

    async def set_chat(self, chat_id: int, model: str | None) -> bool:
        """Set (or clear, with None) one chat's model; False when not listed."""
        if model is not None and model not in await self.available():
            return False
        await self._store.set_chat(chat_id, model)
        return True

    def _pick(self, wanted: str, available: list[str]) -> str:
        if not available or wanted in available:
            return wanted
        for candidate in self._fallbacks:
            if candidate in available:
                return candidate
        return available[0]
