from __future__ import annotations

from bot.core.errors import UpstreamUnavailable
from bot.core.model_choice import ModelChoice, ModelResolver
from bot.core.monitor import Monitor


class Catalog:
    def __init__(self, models: list[str]) -> None:
        self.listed = models
        self.down = False
        self.reads = 0

    async def models(self) -> list[str]:
        self.reads += 1
        if self.down:
            raise UpstreamUnavailable("down")
        return list(self.listed)

    def invalidate(self) -> None:
        pass

    async def health(self) -> bool:
        return not self.down


class Store:
    def __init__(self) -> None:
        self.default: str | None = None
        self.chats: dict[int, str] = {}

    async def chosen(self, chat_id: int) -> tuple[str | None, str | None]:
        return self.default, self.chats.get(chat_id)

    async def set_default(self, model: str | None) -> None:
        self.default = model

    async def set_chat(self, chat_id: int, model: str | None) -> None:
        if model is None:
            self.chats.pop(chat_id, None)
        else:
            self.chats[chat_id] = model


async def test_fallback_order_and_one_notice_per_chat() -> None:
    catalog = Catalog(["a", "b", "c"])
    resolver = ModelResolver(catalog, Store(), "gone", fallbacks=["x", "c"])
    assert await resolver.resolve(1) == ModelChoice("c", "gone", notice=True)
    assert await resolver.resolve(1) == ModelChoice("c", "gone", notice=False)
    assert (await resolver.resolve(2)).notice
    resolver = ModelResolver(catalog, Store(), "gone", fallbacks=["x"])
    assert (await resolver.resolve(1)).model == "a"


async def test_unknown_names_and_an_unreadable_list_never_crash() -> None:
    catalog = Catalog([])
    catalog.down = True
    resolver = ModelResolver(catalog, Store(), "whatever/Unknown-1")
    assert (await resolver.resolve(1)).model == "whatever/Unknown-1"
    assert not await resolver.set_chat(1, "whatever/Unknown-1")


def test_monitor_percentiles() -> None:
    monitor = Monitor(size=100)
    for ms in range(1, 101):
        monitor.first_token(ms / 1000)
    monitor.error("busy")
    snapshot = monitor.snapshot()
    assert (snapshot.ttft_p50, snapshot.ttft_p95) == (0.05, 0.095)
    assert snapshot.errors == {"busy": 1}
