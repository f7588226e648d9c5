"""Composition root: builds every dependency once (the running bot is bot.lifecycle.App)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import fakeredis
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from openai import AsyncOpenAI, Timeout

from bot.adapters.embedded_store import EmbeddedStore
from bot.adapters.gonka import GonkaGateway
from bot.adapters.gonka_catalog import GonkaCatalog
from bot.adapters.gonka_errors import gonka_http_client
from bot.adapters.memory_signals import LocalSignals
from bot.adapters.redis_alerts import RedisAlertLedger
from bot.adapters.redis_client import RedisClient, connect
from bot.adapters.redis_inline import RedisInlinePending
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_order import RedisChatOrder
from bot.adapters.redis_payments import RedisPaymentStore
from bot.adapters.redis_settings import RedisAccessStore, RedisChatSettings
from bot.adapters.redis_signals import RedisReplicaSignals
from bot.adapters.redis_store import RedisHistoryStore, RedisUsageStore
from bot.adapters.redis_variants import RedisVariantStore
from bot.adapters.tools.factory import build_toolbox
from bot.adapters.transcription import WhisperTranscriber, build_transcriber
from bot.config import Settings
from bot.core.access import AccessPolicy, Gate
from bot.core.conversation import ConversationConfig, ConversationService
from bot.core.generation import Generator
from bot.core.limits import AnswerLimits
from bot.core.model_choice import ModelResolver
from bot.core.modes import Modes
from bot.core.monitor import Monitor
from bot.core.payment_ledger import PaymentLedger
from bot.core.payments import Catalog
from bot.core.ports import ChatOrder
from bot.core.redo import Questions
from bot.core.stats import StatsService
from bot.core.tool_rounds import ToolKit
from bot.core.turns import Turns
from bot.core.variants import Variants
from bot.lifecycle import App
from bot.metrics import Metrics
from bot.startup import StartupError, check_data_dir, data_dir_error
from bot.telegram.admin_alerts import TelegramAdminAlerts
from bot.telegram.bot_api import ApiCounters, CallPolicy
from bot.telegram.dispatcher import InlineParts, Parts, build_dispatcher
from bot.telegram.modes_catalog import offered_modes
from bot.telegram.pacing import Cadence, Pacers
from bot.telegram.runtime.chat_order import ChatLocks
from bot.telegram.runtime.running import Running
from bot.telegram.session import PinnedAiohttpSession
from bot.telegram.texts import t
from bot.workers.lanes import WorkerLanes
from bot.workers.pool import WorkerLimits

log = logging.getLogger(__name__)


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
    check_data_dir(settings.data_dir)
    store = EmbeddedStore(settings.data_dir, settings.snapshot_interval)
    try:
        store.load()
    except (OSError, ValueError) as exc:
        raise StartupError(data_dir_error(settings.data_dir, exc)) from None
    log.info(
        "no REDIS_URL: data kept in %s (saved every %.0f s)",
        store.path,
        settings.snapshot_interval,
    )
    return store.client, store


def build_payments(
    settings: Settings, redis: RedisClient, keys: RedisKeys, now: Callable[[], datetime]
) -> PaymentLedger:
    """What is for sale for Stars, and the ledger of payments. Invoice payloads are signed with
    a key derived from the bot token: every replica verifies them, nothing is stored per invoice."""
    token = settings.bot_token.get_secret_value().encode()
    key = hashlib.sha256(b"star-invoice-payloads:" + token).digest()
    catalog = Catalog(settings.star_packs, settings.star_subscription, key)
    if catalog.for_sale and not (settings.daily_token_quota or settings.monthly_token_quota):
        log.warning(
            "STAR_PACKS/STAR_SUBSCRIPTION without DAILY_TOKEN_QUOTA or MONTHLY_TOKEN_QUOTA: paid "
            "tokens are spent only after a free quota, so with none they are never spent"
        )
    return PaymentLedger(catalog, RedisPaymentStore(redis, keys), now)


def build_app(settings: Settings, clock: Callable[[], datetime] | None = None) -> App:
    """The composition root: settings in, a ready-to-run App out (`clock`: UTC now, for tests)."""
    now = clock or (lambda: datetime.now(UTC))
    redis, embedded = build_store(settings)
    keys = RedisKeys(settings.redis_key_prefix, idle_ttl=settings.data_ttl_days * 86400)
    llm = AsyncOpenAI(
        # aiohttp transport: reading ~400 small SSE events per answer costs about half the CPU
        # of the default httpx2/anyio transport (bench/stream_bench.py).
        # Error bodies are read up to a bound (the SDK reads them whole).
        http_client=gonka_http_client(),
        api_key=settings.gonka_api_key.get_secret_value(),
        base_url=settings.gonka_base_url,
        max_retries=settings.upstream_max_retries,
        timeout=Timeout(settings.upstream_read_timeout, connect=settings.upstream_connect_timeout),
    )
    usage_store = RedisUsageStore(redis, keys)
    chat_store = RedisChatSettings(redis, keys)
    counters = ApiCounters()
    running = Running()
    monitor = Monitor()
    metrics = Metrics(
        monitor,
        active_streams=lambda: running.active,
        api_calls=lambda: counters.calls,
        api_429=lambda: counters.retry_after,
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
    bot = Bot(
        token=settings.bot_token.get_secret_value(),
        session=PinnedAiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
    )
    ledger = RedisAlertLedger(redis, keys) if settings.redis_url else None  # shared by replicas
    alerts = TelegramAdminAlerts(bot, settings.admin_ids, settings.admin_alert_interval, ledger)
    history = RedisHistoryStore(redis, keys)
    config = ConversationConfig(
        system_prompt=settings.system_prompt,
        token_budget=settings.context_token_budget,
        max_tokens=settings.max_tokens,
        limits=AnswerLimits(settings.answer_timeout, settings.content_idle_timeout),
    )
    service = ConversationService(history, usage_store, config, clock=now, prompts=chat_store)
    # The tools open at start-up (App.open_tools), before updates are taken.
    jobs = build_workers(settings)
    tools = ToolKit(
        lambda: build_toolbox(settings, jobs, chat_store, settings.context_token_budget), t
    )
    gateway = GonkaGateway(
        llm,
        settings.temperature,
        settings.stream_read_interval,
        retry_budget=settings.upstream_retry_budget,
    )
    turns = Turns(
        history, usage_store, service, models, Generator(gateway, config, monitor, alerts),
        clock=now, tools=tools, vision_models=settings.vision_models,
    )  # fmt: skip
    inline = None
    if settings.inline_mode:  # its answers must fit one message: their own max_tokens
        brief = dataclasses.replace(config, max_tokens=settings.inline_max_tokens)
        inline_turns = Turns(
            history, usage_store, service, models, Generator(gateway, brief, monitor, alerts),
            clock=now, vision_models=settings.vision_models,
        )  # fmt: skip
        inline = InlineParts(inline_turns, RedisInlinePending(redis, keys))
    pacers = Pacers(Cadence.of(settings))  # the one cadence: the call policy's and the views'
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
    payments = build_payments(settings, redis, keys, now)
    transcriber = build_voice(settings)
    answers = RedisVariantStore(redis, keys)  # the last answer's variants, questions by message
    parts = Parts(
        bot, service, turns, models, gate, stats, order, running, monitor, pacers,
        signals or LocalSignals(), jobs, payments, tools, inline,
        transcriber, usage_store, usage_store,
        Variants(history, answers, config.history_keep), Questions(answers),
        Modes(offered_modes(settings.modes_file), chat_store), chat_store,
    )  # fmt: skip
    dispatcher = build_dispatcher(settings, parts)
    webhook = None
    if settings.webhook_url and settings.webhook_secret:
        from bot.telegram.runtime.webhook import WebhookReceiver  # aiohttp's web server

        webhook = WebhookReceiver(
            dispatcher, bot, order, settings.webhook_secret.get_secret_value(), running,
            max_concurrent=settings.max_concurrent_updates,
        )  # fmt: skip
    return App(
        settings, bot, dispatcher, redis, llm, counters, running, models, metrics, order,
        webhook, signals, embedded=embedded, service=service, alerts=alerts, tools=tools,
        jobs=jobs, payments=payments, transcriber=transcriber,
    )  # fmt: skip


def build_voice(settings: Settings) -> WhisperTranscriber | None:
    """The transcription endpoint (TRANSCRIBE_*); None, and voice is off, without one."""
    if not settings.transcribe_base_url:
        return None
    key = settings.transcribe_api_key
    return build_transcriber(
        settings.transcribe_base_url,
        key.get_secret_value() if key else None,
        settings.transcribe_model,
    )


def build_workers(settings: Settings) -> WorkerLanes:
    """The worker processes for documents, page text and calculate (none start until needed)."""
    return WorkerLanes(
        WorkerLimits(
            processes=settings.worker_processes,
            timeout=settings.worker_job_timeout,
            memory_mb=settings.worker_memory_mb,
            max_jobs=settings.worker_max_jobs,
            user_jobs=settings.worker_user_jobs,
            idle_seconds=settings.worker_idle_seconds,
        )
    )


__all__ = ["App", "build_app", "build_store"]
