"""Composition root: builds every dependency once (the running bot is bot.lifecycle.App).

`build_app` runs the steps below in order; each builds one part of the object graph from the
parts built before it and returns it as a small frozen record. The leaves (one object from the
settings) are in bot/builders.py; nothing else wires the parts together."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from openai import AsyncOpenAI

from bot.adapters.gonka import GonkaGateway
from bot.adapters.gonka_catalog import GonkaCatalog
from bot.adapters.memory_signals import LocalSignals
from bot.adapters.redis_alerts import RedisAlertLedger
from bot.adapters.redis_client import RedisClient
from bot.adapters.redis_inline import RedisInlinePending
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_settings import RedisAccessStore, RedisChatSettings
from bot.adapters.redis_signals import RedisReplicaSignals
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.adapters.redis_variants import RedisVariantStore
from bot.adapters.tools.factory import build_toolbox, known_tool
from bot.adapters.transcription import WhisperTranscriber
from bot.builders import (
    access_policy,
    build_payments,
    build_store,
    build_voice,
    build_workers,
    chat_order,
    conversation_config,
    gonka_client,
    telegram_bot,
)
from bot.config import Settings
from bot.core.access import Gate
from bot.core.conversation import ConversationConfig, ConversationService
from bot.core.generation import Generator
from bot.core.model_choice import ModelResolver
from bot.core.modes import Modes
from bot.core.monitor import Monitor
from bot.core.payment_ledger import PaymentLedger
from bot.core.ports import ChatOrder
from bot.core.redo import Questions
from bot.core.stats import StatsService
from bot.core.tool_rounds import ToolKit
from bot.core.turns import Turns
from bot.core.variants import Variants
from bot.lifecycle import App
from bot.metrics import Metrics
from bot.telegram.admin_alerts import TelegramAdminAlerts
from bot.telegram.bot_api import ApiCounters, CallPolicy
from bot.telegram.dispatcher import InlineParts, Parts, build_dispatcher
from bot.telegram.modes_catalog import offered_modes
from bot.telegram.pacing import Cadence, Pacers
from bot.telegram.runtime.running import Running
from bot.telegram.texts import t
from bot.workers.lanes import WorkerLanes

if TYPE_CHECKING:  # fakeredis (~0.2 s of CPU) only without REDIS_URL: see builders.build_store
    from bot.adapters.embedded_store import EmbeddedStore
    from bot.telegram.runtime.webhook import WebhookReceiver


@dataclass(frozen=True, slots=True)
class Stores:
    """The store (a Redis server, the embedded one, or memory) and the stores every part shares."""

    redis: RedisClient
    embedded: EmbeddedStore | None
    keys: RedisKeys
    usage: RedisUsageStore
    chats: RedisChatSettings
    history: RedisHistoryStore


@dataclass(frozen=True, slots=True)
class Upstream:
    """The Gonka side: the SDK client, its model catalogue, the chats' models, the gateway."""

    llm: AsyncOpenAI
    catalog: GonkaCatalog
    models: ModelResolver
    gateway: GonkaGateway


@dataclass(frozen=True, slots=True)
class Counted:
    """What the parts count into (read by /metrics) and the answers running."""

    counters: ApiCounters
    running: Running
    monitor: Monitor
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class Outbound:
    """The Bot API side: the one Bot (every call paced to the one cadence), the admins' alerts."""

    bot: Bot
    pacers: Pacers
    alerts: TelegramAdminAlerts


@dataclass(frozen=True, slots=True)
class Conversations:
    """The conversations and their turns, with the tools and the workers the turns use."""

    config: ConversationConfig
    service: ConversationService
    jobs: WorkerLanes
    tools: ToolKit
    turns: Turns
    inline: InlineParts | None


@dataclass(frozen=True, slots=True)
class TelegramSide:
    """The dispatcher and what it is built on besides the conversations."""

    dispatcher: Dispatcher
    webhook: WebhookReceiver | None
    order: ChatOrder
    signals: RedisReplicaSignals | None
    payments: PaymentLedger
    transcriber: WhisperTranscriber | None


def build_app(settings: Settings, clock: Callable[[], datetime] | None = None) -> App:
    """The composition root: settings in, a ready-to-run App out (`clock`: UTC now, for tests)."""
    now = clock or (lambda: datetime.now(UTC))
    stores = build_stores(settings)
    upstream = build_upstream(settings, stores)
    counted = build_counted()
    out = build_outbound(settings, stores, counted)
    conv = build_conversations(settings, stores, upstream, counted, out, now)
    tg = build_telegram(settings, stores, upstream, counted, out, conv, now)
    return App(
        settings, out.bot, tg.dispatcher, stores.redis, upstream.llm, counted.counters,
        counted.running, upstream.models, counted.metrics, tg.order, tg.webhook, tg.signals,
        embedded=stores.embedded, service=conv.service, alerts=out.alerts, tools=conv.tools,
        jobs=conv.jobs, payments=tg.payments, transcriber=tg.transcriber,
    )  # fmt: skip


def build_stores(settings: Settings) -> Stores:
    """The store, and on it the usage, the chats' settings and the history."""
    redis, embedded = build_store(settings)
    keys = RedisKeys(settings.redis_key_prefix, idle_ttl=settings.data_ttl_days * 86400)
    usage_store = RedisUsageStore(redis, keys)
    chat_store = RedisChatSettings(redis, keys)
    history = RedisHistoryStore(redis, keys)
    return Stores(redis, embedded, keys, usage_store, chat_store, history)


def build_upstream(settings: Settings, stores: Stores) -> Upstream:
    """The Gonka client, the catalogue of its models, the chats' models and the gateway."""
    llm = gonka_client(settings)
    catalog = GonkaCatalog(llm, settings.gonka_base_url, settings.model_list_ttl)
    models = ModelResolver(
        catalog,
        stores.chats,
        settings.gonka_model,
        settings.model_fallbacks,
        forget_after=max(settings.model_list_ttl, 60.0),
    )
    gateway = GonkaGateway(
        llm,
        settings.temperature,
        settings.stream_read_interval,
        retry_budget=settings.upstream_retry_budget,
    )
    return Upstream(llm, catalog, models, gateway)


def build_counted() -> Counted:
    """The Bot API's counters, the answers running, the monitor, and /metrics over them."""
    counters = ApiCounters()
    running = Running()
    monitor = Monitor()
    metrics = Metrics(
        monitor,
        active_streams=lambda: running.active,
        api_calls=lambda: counters.calls,
        api_429=lambda: counters.retry_after,
    )
    return Counted(counters, running, monitor, metrics)


def build_outbound(settings: Settings, stores: Stores, counted: Counted) -> Outbound:
    """The Bot, every call of it paced and retried by the call policy, and the admins' alerts."""
    redis, keys, counters = stores.redis, stores.keys, counted.counters
    bot = telegram_bot(settings)
    ledger = RedisAlertLedger(redis, keys) if settings.redis_url else None  # shared by replicas
    alerts = TelegramAdminAlerts(bot, settings.admin_ids, settings.admin_alert_interval, ledger)
    pacers = Pacers(Cadence.of(settings))  # the one cadence: the call policy's and the views'
    # Every Bot API call of the bot, handlers' included, is paced and retried in one place.
    bot.session.middleware(CallPolicy(pacers, counters))
    return Outbound(bot, pacers, alerts)


def build_conversations(
    settings: Settings,
    stores: Stores,
    upstream: Upstream,
    counted: Counted,
    out: Outbound,
    now: Callable[[], datetime],
) -> Conversations:
    """The conversation service, the tools, the turns (and inline mode's turns)."""
    history, usage_store, chat_store = stores.history, stores.usage, stores.chats
    models, gateway = upstream.models, upstream.gateway
    monitor, alerts = counted.monitor, out.alerts
    config = conversation_config(settings)
    service = ConversationService(history, usage_store, config, clock=now, prompts=chat_store)
    # The tools open at start-up (App.open_tools), before updates are taken.
    jobs = build_workers(settings)
    tools = ToolKit(
        lambda: build_toolbox(settings, jobs, chat_store, settings.context_token_budget), t
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
        inline = InlineParts(inline_turns, RedisInlinePending(stores.redis, stores.keys))
    return Conversations(config, service, jobs, tools, turns, inline)


def build_telegram(
    settings: Settings,
    stores: Stores,
    upstream: Upstream,
    counted: Counted,
    out: Outbound,
    conv: Conversations,
    now: Callable[[], datetime],
) -> TelegramSide:
    """What the handlers are given (the gate, the chats' order, Stars, voice, ...), the
    dispatcher, and the webhook receiver when WEBHOOK_URL is set."""
    redis, keys, usage_store, history = stores.redis, stores.keys, stores.usage, stores.history
    bot, running, monitor, pacers = out.bot, counted.running, counted.monitor, out.pacers
    signals = RedisReplicaSignals(redis, keys) if settings.redis_url else None
    order = chat_order(settings, redis, keys)
    gate = Gate(access_policy(settings), RedisAccessStore(redis, keys), usage_store, clock=now)
    stats = StatsService(usage_store, upstream.catalog, monitor, now)
    payments = build_payments(settings, redis, keys, now)
    transcriber = build_voice(settings)
    answers = RedisVariantStore(redis, keys)  # the last answer's variants, questions by message
    parts = Parts(
        bot, conv.service, conv.turns, upstream.models, gate, stats, order, running, monitor,
        pacers, signals or LocalSignals(), conv.jobs, payments, conv.tools, conv.inline,
        transcriber, usage_store, usage_store,
        Variants(history, answers, conv.config.history_keep), Questions(answers),
        Modes(offered_modes(settings.modes_file, known_tool), stores.chats), stores.chats,
    )  # fmt: skip
    dispatcher = build_dispatcher(settings, parts)
    webhook = None
    if settings.webhook_url and settings.webhook_secret:
        from bot.telegram.runtime.webhook import WebhookReceiver  # aiohttp's web server

        webhook = WebhookReceiver(
            dispatcher, bot, order, settings.webhook_secret.get_secret_value(), running,
            max_concurrent=settings.max_concurrent_updates,
        )  # fmt: skip
    return TelegramSide(dispatcher, webhook, order, signals, payments, transcriber)


__all__ = ["App", "build_app", "build_store"]
