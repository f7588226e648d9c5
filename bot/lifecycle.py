"""The running bot: polling or webhook, health server, graceful shutdown, closing."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from openai import AsyncOpenAI

from bot.adapters.redis_client import RedisClient, wait_until_reachable
from bot.adapters.redis_order import RedisChatOrder
from bot.adapters.redis_signals import RedisReplicaSignals
from bot.adapters.transcription import WhisperTranscriber
from bot.config import Settings
from bot.core.conversation import ConversationService
from bot.core.errors import BotError
from bot.core.model_choice import ModelResolver
from bot.core.payment_ledger import PaymentLedger
from bot.core.ports import AdminAlerts, ChatOrder
from bot.core.tool_rounds import ToolKit, ToolSet
from bot.lazy_aiogram import installed, warm
from bot.metrics import Metrics
from bot.startup import gonka_problem
from bot.telegram.bot_api import ApiCounters
from bot.telegram.commands_menu import publish_menu
from bot.telegram.payments_recovery import recover_payments
from bot.telegram.runtime.running import Running
from bot.telegram.runtime.update_slots import backlog
from bot.workers.lanes import WorkerLanes

if TYPE_CHECKING:  # aiohttp's web server is imported only when a listener is configured
    from aiohttp import web

    from bot.adapters.embedded_store import EmbeddedStore  # fakeredis: only without REDIS_URL
    from bot.telegram.runtime.webhook import WebhookReceiver

log = logging.getLogger(__name__)
# Seconds after the first poll (or the webhook set) before the hot schemas are built (~0.25 s of
# CPU, once).
WARM_AFTER = 0.5


@dataclass(slots=True)
class App:
    """Everything the running bot is made of; `close()` releases it."""

    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    redis: RedisClient
    llm: AsyncOpenAI
    counters: ApiCounters
    running: Running
    models: ModelResolver
    metrics: Metrics
    order: ChatOrder
    webhook: WebhookReceiver | None = None
    signals: RedisReplicaSignals | None = None
    http: web.AppRunner | None = None
    webhook_http: web.AppRunner | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    embedded: EmbeddedStore | None = None
    service: ConversationService | None = None
    alerts: AdminAlerts | None = None
    tools: ToolKit | None = None
    toolbox: ToolSet | None = None  # the tools opened
    jobs: WorkerLanes | None = None
    payments: PaymentLedger | None = None
    transcriber: WhisperTranscriber | None = None  # its HTTP client is closed with the app

    @property
    def selling(self) -> bool:
        """Tokens are sold for Stars: the menu lists /buy, /paysupport and /terms."""
        return bool(self.settings.star_packs or self.settings.star_subscription)

    async def open_tools(self) -> None:
        """Open the tools (the built-ins TOOLS turns on, the MCP servers' tools) for the turns
        and for /tools; once, before updates are taken."""
        if self.tools is not None:
            self.toolbox = await self.tools.open()

    async def run(self) -> None:
        """Webhook mode when WEBHOOK_URL is set, else long polling; SIGTERM stops it gracefully:
        no new updates, answers in hand finish within SHUTDOWN_GRACE."""
        if self.settings.redis_url:
            await wait_until_reachable(self.redis, self.settings.redis_url)
        self.start_store()
        await self.start_http()
        try:
            if self.webhook is not None:
                await self.run_webhook()
            else:
                await self.run_polling()
        finally:
            await self.drain()

    def start_store(self) -> None:
        """The embedded store's saver; a failed save is told to the admins."""
        if self.embedded is not None:
            self.embedded.start(self._store_not_saved)

    async def _store_not_saved(self) -> None:
        """A save of the embedded store failed: tell the admins (once per ADMIN_ALERT_INTERVAL)."""
        if self.alerts is not None:
            await self.alerts.upstream_failed("store")

    async def check_model(self) -> None:
        """Check GONKA_MODEL against the live list (falls back, and logs, when it is missing);
        when Gonka cannot be reached or refuses the key, one line names the variable to fix."""
        problem = await gonka_problem(self.settings)
        if problem is not None:
            log.error("%s (running anyway: answers fail until it is fixed)", problem)
            return
        try:
            await self.models.startup_check()
        except BotError as exc:  # e.g. Redis down: the first turn will say so to the user
            log.warning("model check at start-up failed error=%s", type(exc).__name__)

    async def start_http(self) -> None:
        """/healthz, /readyz, /metrics on HTTP_HOST:HTTP_PORT (local by default); the webhook on
        WEBHOOK_HOST:WEBHOOK_PORT. One listener, on WEBHOOK_HOST, when the two ports are equal."""
        s = self.settings
        if s.http_port is None and not (self.webhook is not None and s.webhook_url):
            return
        from bot.telegram.runtime.http_server import build_http, serve

        checks = {"redis": self._ping_redis, "telegram": self._ping_telegram}
        webhook = None
        if self.webhook is not None and s.webhook_url:
            webhook = (urlsplit(s.webhook_url).path or "/", self.webhook)
        if webhook is not None and s.webhook_port != s.http_port:
            self.webhook_http = await serve(
                build_http(None, {}, webhook), s.webhook_host, s.webhook_port
            )
            webhook = None
        if s.http_port is None:
            return
        host = s.http_host
        if webhook is not None and host != s.webhook_host:
            log.warning(
                "HTTP_PORT equals WEBHOOK_PORT: /metrics and /readyz listen on WEBHOOK_HOST"
            )
            host = s.webhook_host
        self.http = await serve(build_http(self.metrics, checks, webhook), host, s.http_port)

    async def _ping_redis(self) -> None:
        await self.redis.ping()

    async def _ping_telegram(self) -> None:
        await self.bot.get_me(request_timeout=3)

    async def run_webhook(self, *, handle_signals: bool = True) -> None:
        """Registers the webhook and serves until SIGTERM/SIGINT (or `stopping` is set)."""
        url, secret = self.settings.webhook_url, self.settings.webhook_secret
        if not url or secret is None:
            raise RuntimeError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        await self.bot.set_webhook(
            url,
            secret_token=secret.get_secret_value(),
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
        )
        await self.check_model()
        await self.open_tools()
        await publish_menu(self.bot, self.settings.admin_ids, selling=self.selling)
        if self.selling and self.payments is not None:
            await recover_payments(self.bot, self.payments)
        freeze_startup_heap()
        warm_soon()
        log.info("webhook set, waiting for updates")
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stopping.set)
        await self.stopping.wait()
        log.info("stopping: no new updates")

    async def drain(self) -> None:
        """Let the updates in hand finish (bounded by SHUTDOWN_GRACE: answers still running then
        end as cut by the shutdown, delivered, stored and counted), then stop serving."""
        if self.webhook is not None:
            self.webhook.stop()
        await self.running.finish(self.settings.shutdown_grace)
        if self.jobs is not None:
            await self.jobs.aclose()  # a document or page still being read ends now
        await self._stop_http()

    async def _stop_http(self) -> None:
        for runner in (self.http, self.webhook_http):
            if runner is not None:
                await runner.cleanup()
        self.http = self.webhook_http = None

    async def run_polling(self, *, polling_timeout: int = 30, handle_signals: bool = True) -> None:
        """Long polling until stopped; updates are handled concurrently, ordered per chat."""
        me = await self.bot.me()
        if not me.can_read_all_group_messages:
            log.info(
                "privacy mode is on for @%s: in groups it answers mentions, replies to its "
                "messages and /ask; to keep unaddressed messages as context, turn privacy off in "
                "@BotFather (/setprivacy) or make the bot a group admin",
                me.username,
            )
        await self.check_model()
        await self.open_tools()
        await publish_menu(self.bot, self.settings.admin_ids, selling=self.selling)
        if self.selling and self.payments is not None:
            await recover_payments(self.bot, self.payments)
        freeze_startup_heap()
        await self.bot.delete_webhook(drop_pending_updates=False)
        warm_soon()  # nothing but aiogram's start-up runs before the first getUpdates now
        await self.dispatcher.start_polling(
            self.bot,
            polling_timeout=polling_timeout,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            handle_signals=handle_signals,
            close_bot_session=False,
            # aiogram counts updates waiting for their chat's turn too: it bounds the read-ahead;
            # UpdateSlots caps the updates being handled.
            tasks_concurrency_limit=backlog(self.settings.max_concurrent_updates),
        )

    async def close(self) -> None:
        await self._stop_http()
        if self.jobs is not None:
            await self.jobs.aclose()
        await self.bot.session.close()
        await self.llm.close()
        if self.transcriber is not None:
            await self.transcriber.aclose()
        if self.tools is not None:
            await self.tools.aclose()
        if self.signals is not None:
            await self.signals.close()
        if isinstance(self.order, RedisChatOrder):
            await self.order.aclose()
        if self.embedded is not None:
            await self.embedded.close()  # the last snapshot
        await self.redis.aclose()


def warm_soon() -> None:
    """Build the schemas every answer uses WARM_AFTER seconds from now: once the first poll is out
    (or the webhook set), so that the first getUpdates does not wait for them (~0.25 s of CPU)."""
    if installed():
        asyncio.get_running_loop().call_later(WARM_AFTER, warm)


def freeze_startup_heap() -> None:
    """Keep what was loaded at start-up out of the garbage collector's full passes.

    aiogram's and openai's pydantic models leave ~280,000 long-lived objects; each full
    collection walked them all, a 150 ms stall of every stream at once (bench/stream_bench.py).
    """
    gc.collect()
    gc.freeze()
