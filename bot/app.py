"""Composition root: builds every dependency once and runs the bot."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import fakeredis
from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from openai import AsyncOpenAI, DefaultAioHttpClient, Timeout

from bot.adapters.embedded_store import EmbeddedStore
from bot.adapters.gonka import GonkaGateway
from bot.adapters.gonka_catalog import GonkaCatalog
from bot.adapters.memory_signals import LocalSignals
from bot.adapters.redis_alerts import RedisAlertLedger
from bot.adapters.redis_client import RedisClient, connect, wait_until_reachable
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_order import RedisChatOrder
from bot.adapters.redis_settings import RedisAccessStore, RedisChatSettings
from bot.adapters.redis_signals import RedisReplicaSignals
from bot.adapters.redis_store import RedisHistoryStore, RedisUsageStore
from bot.adapters.tools.factory import Toolbox, build_toolbox
from bot.config import Settings
from bot.core.access import AccessPolicy, Gate
from bot.core.conversation import ConversationConfig, ConversationService
from bot.core.errors import BotError
from bot.core.limits import AnswerLimits
from bot.core.model_choice import ModelResolver
from bot.core.monitor import UpstreamMonitor
from bot.core.ports import ChatOrder
from bot.core.stats import StatsService
from bot.core.tool_rounds import ToolKit
from bot.core.tools import ToolSwitches
from bot.metrics import Metrics
from bot.telegram.admin_alerts import TelegramAdminAlerts
from bot.telegram.bot_api import ApiCounters, CallPolicy
from bot.telegram.commands_menu import publish_menu
from bot.telegram.dispatcher import Parts, build_dispatcher
from bot.telegram.pacing import Pacers, Rate
from bot.telegram.runtime.chat_order import ChatLocks
from bot.telegram.runtime.http_server import build_http, serve
from bot.telegram.runtime.running import Running
from bot.telegram.runtime.webhook import WebhookReceiver
from bot.telegram.session import PinnedAiohttpSession

log = logging.getLogger(__name__)


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
    switches: ToolSwitches | None = None
    toolbox: Toolbox | None = None

    async def open_tools(self) -> None:
        """Build the tools (the built-ins TOOLS turns on, the MCP servers' tools) and give them
        to the conversation and to /tools; once, before updates are taken."""
        if self.toolbox is not None or self.service is None:
            return
        self.toolbox = box = await build_toolbox(self.settings, self.switches)
        self.service.tools = ToolKit(box.registry, box.runner, box.max_rounds)
        self.dispatcher["tools"] = box.registry

    async def run(self) -> None:
        """Webhook mode when WEBHOOK_URL is set, else long polling; SIGTERM stops it gracefully:
        no new updates, answers in hand finish within SHUTDOWN_GRACE."""
        if self.settings.redis_url:
            await wait_until_reachable(self.redis, self.settings.redis_url)
        if self.embedded is not None:
            self.embedded.start()
        await self.start_http()
        try:
            if self.webhook is not None:
                await self.run_webhook()
            else:
                await self.run_polling()
        finally:
            await self.drain()

    async def check_model(self) -> None:
        """Check GONKA_MODEL against the live list (falls back, and logs, when it is missing)."""
        try:
            await self.models.startup_check()
        except BotError as exc:  # e.g. Redis down: the first turn will say so to the user
            log.warning("model check at start-up failed error=%s", type(exc).__name__)

    async def start_http(self) -> None:
        """/healthz, /readyz, /metrics on HTTP_HOST:HTTP_PORT (local by default); the webhook on
        WEBHOOK_HOST:WEBHOOK_PORT. One listener, on WEBHOOK_HOST, when the two ports are equal."""
        s = self.settings
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
        await publish_menu(self.bot, self.settings.admin_ids)
        freeze_startup_heap()
        log.info("webhook set, waiting for updates")
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stopping.set)
        await self.stopping.wait()
        log.info("stopping: no new updates")

    async def drain(self) -> None:
        """Let the updates in hand finish (bounded by SHUTDOWN_GRACE: answers still running then
        end as interrupted, delivered and stored), then stop serving."""
        if self.webhook is not None:
            self.webhook.stop()
        await self.running.finish(self.settings.shutdown_grace)
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
        await publish_menu(self.bot, self.settings.admin_ids)
        freeze_startup_heap()
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(
            self.bot,
            polling_timeout=polling_timeout,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            handle_signals=handle_signals,
            close_bot_session=False,
            tasks_concurrency_limit=self.settings.max_concurrent_updates,
        )

    async def close(self) -> None:
        await self._stop_http()
        await self.bot.session.close()
        await self.llm.close()
        if self.toolbox is not None:
            await self.toolbox.aclose()
        if self.signals is not None:
            await self.signals.close()
        if isinstance(self.order, RedisChatOrder):
            await self.order.aclose()
        if self.embedded is not None:
            await self.embedded.close()  # the last snapshot
        await self.redis.aclose()


def freeze_startup_heap() -> None:
    """Keep what was loaded at start-up out of the garbage collector's full passes.

    aiogram's and openai's pydantic models leave ~280,000 long-lived objects; each full
    collection walked them all, a 150 ms stall of every stream at once (bench/stream_bench.py).
    """
    gc.collect()
    gc.freeze()


def build_store(settings: Settings) -> tuple[RedisClient, EmbeddedStore | None]:
    """The Redis server of REDIS_URL, else the embedded store under DATA_DIR (else memory)."""
    if settings.redis_url:
        client = connect(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            pool_timeout=settings.redis_pool_timeout,
        )
        return client, None
    if settings.webhook_url:
        log.warning(
            "no REDIS_URL: run ONE replica of this webhook; replicas behind a load balancer "
            "need REDIS_URL to share chats' order, Stop buttons, history and usage"
        )
    if settings.data_dir is None:
        log.warning("REDIS_URL and DATA_DIR are not set: history and usage are kept in memory only")
        return fakeredis.aioredis.FakeRedis(), None
    store = EmbeddedStore(settings.data_dir, settings.snapshot_interval)
    try:
        store.load()
    except (OSError, ValueError, KeyError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"unreadable {store.path.name}"
        raise SystemExit(
            f"DATA_DIR={settings.data_dir}: {reason}. Set DATA_DIR to a writable directory "
            "(or REDIS_URL to a Redis server)."
        ) from None
    log.info(
        "no REDIS_URL: data kept in %s (saved every %.0f s)",
        store.path,
        settings.snapshot_interval,
    )
    return store.client, store


def build_app(settings: Settings, clock: Callable[[], datetime] | None = None) -> App:
    """The composition root: settings in, a ready-to-run App out (`clock`: UTC now, for tests)."""
    now = clock or (lambda: datetime.now(UTC))
    redis, embedded = build_store(settings)
    keys = RedisKeys(settings.redis_key_prefix, idle_ttl=settings.data_ttl_days * 86400)
    llm = AsyncOpenAI(
        # aiohttp transport: reading ~400 small SSE events per answer costs about half the CPU
        # of the default httpx2/anyio transport (bench/stream_bench.py).
        http_client=DefaultAioHttpClient(),
        api_key=settings.gonka_api_key.get_secret_value(),
        base_url=settings.gonka_base_url,
        max_retries=settings.upstream_max_retries,
        timeout=Timeout(settings.upstream_read_timeout, connect=settings.upstream_connect_timeout),
    )
    usage_store = RedisUsageStore(redis, keys)
    chat_store = RedisChatSettings(redis, keys)
    counters = ApiCounters()
    running = Running()
    metrics = Metrics(
        active_streams=lambda: running.active,
        api_calls=lambda: counters.calls,
        api_429=lambda: counters.retry_after,
    )
    monitor = UpstreamMonitor(
        on_first_token=lambda seconds, model: metrics.first_token.observe(seconds, model=model),
        on_error=lambda kind, model: metrics.upstream_errors.inc(kind, model=model),
    )
    catalog = GonkaCatalog(llm, settings.gonka_base_url, settings.model_list_ttl)
    models = ModelResolver(
        catalog,
        chat_store,
        settings.gonka_model,
        settings.model_fallbacks,
        forget_after=max(settings.model_list_ttl, 60.0),
    )
    gate = Gate(
        AccessPolicy(
            admins=settings.admin_ids,
            mode=settings.access_mode,
            allowed_users=settings.allowed_user_ids,
            allowed_chats=settings.allowed_chat_ids,
            daily_quota=settings.daily_token_quota,
            monthly_quota=settings.monthly_token_quota,
            flood_messages=settings.flood_messages,
            flood_window=settings.flood_window,
            users_pick_models=settings.users_can_pick_model,
        ),
        RedisAccessStore(redis, keys),
        usage_store,
        clock=now,
    )
    service = ConversationService(
        RedisHistoryStore(redis, keys),
        usage_store,
        GonkaGateway(
            llm,
            settings.temperature,
            settings.stream_read_interval,
            retry_budget=settings.upstream_retry_budget,
        ),
        ConversationConfig(
            system_prompt=settings.system_prompt,
            token_budget=settings.context_token_budget,
            max_tokens=settings.max_tokens,
            limits=AnswerLimits(settings.answer_timeout, settings.content_idle_timeout),
        ),
        clock=now,
        prompts=chat_store,
        monitor=monitor,
    )
    bot = Bot(
        token=settings.bot_token.get_secret_value(),
        session=PinnedAiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
    )
    ledger = RedisAlertLedger(redis, keys) if settings.redis_url else None  # shared by replicas
    service.alerts = TelegramAdminAlerts(
        bot, settings.admin_ids, settings.admin_alert_interval, ledger
    )
    pacers = Pacers(
        {
            "private": Rate(settings.private_edit_interval, settings.private_edit_burst),
            "group": Rate(settings.group_edit_interval, 1),
            "draft": Rate(settings.draft_interval, settings.draft_burst),
        },
        # Telegram allows a bot about 30 messages a second over all chats: stay below, with
        # burst + rate under 30 in any one second.
        bot_rate=Rate(1 / 24, 3),
    )
    # Every Bot API call of the bot, handlers' included, is paced and retried in one place.
    bot.session.middleware(CallPolicy(pacers, counters))
    signals = RedisReplicaSignals(redis, keys) if settings.redis_url else None
    # Without a Redis server there is one process and nothing to share: in-process order.
    order: ChatOrder = (
        RedisChatOrder(redis, keys, ttl=settings.chat_lock_ttl)
        if settings.redis_url
        else ChatLocks()
    )
    stats = StatsService(usage_store, catalog, monitor, now)
    parts = Parts(
        bot, service, models, gate, stats, order, running, metrics, pacers,
        signals or LocalSignals(),
    )  # fmt: skip
    dispatcher = build_dispatcher(settings, parts)
    webhook = (
        WebhookReceiver(
            dispatcher,
            bot,
            order,
            settings.webhook_secret.get_secret_value(),
            running,
            max_concurrent=settings.max_concurrent_updates,
        )
        if settings.webhook_url and settings.webhook_secret
        else None
    )
    return App(
        settings, bot, dispatcher, redis, llm, counters, running, models, metrics, order,
        webhook, signals, embedded=embedded, service=service, switches=chat_store,
    )  # fmt: skip
