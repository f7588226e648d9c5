"""The composition root's leaves: each builds one object from the settings (and the store),
wiring no other part. bot/app.py, the composition root, wires them into the bot."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from openai import AsyncOpenAI, Timeout

from bot.adapters.gonka_errors import gonka_http_client
from bot.adapters.redis_client import RedisClient, connect
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_order import RedisChatOrder
from bot.adapters.redis_payments import RedisPaymentStore
from bot.adapters.transcription import WhisperTranscriber, build_transcriber
from bot.config import Settings
from bot.core.access import AccessPolicy
from bot.core.conversation import ConversationConfig
from bot.core.limits import AnswerLimits
from bot.core.payment_ledger import PaymentLedger
from bot.core.payments import Catalog
from bot.core.ports import ChatOrder
from bot.startup import StartupError, check_data_dir, data_dir_error
from bot.telegram.runtime.chat_order import ChatLocks
from bot.telegram.session import PinnedAiohttpSession
from bot.workers.lanes import WorkerLanes
from bot.workers.pool import WorkerLimits

if TYPE_CHECKING:  # fakeredis (~0.2 s of CPU) only without REDIS_URL: imported in build_store
    from bot.adapters.embedded_store import EmbeddedStore

log = logging.getLogger("bot.app")  # the store's warnings keep the logger they had in app.py


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
    import fakeredis

    from bot.adapters.embedded_store import EmbeddedStore

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


def gonka_client(settings: Settings) -> AsyncOpenAI:
    """The OpenAI SDK's client of the Gonka endpoint."""
    return AsyncOpenAI(
        # aiohttp transport: reading ~400 small SSE events per answer costs about half the CPU
        # of the default httpx2/anyio transport (bench/stream_bench.py).
        # Error bodies are read up to a bound (the SDK reads them whole).
        http_client=gonka_http_client(),
        api_key=settings.gonka_api_key.get_secret_value(),
        base_url=settings.gonka_base_url,
        max_retries=settings.upstream_max_retries,
        timeout=Timeout(settings.upstream_read_timeout, connect=settings.upstream_connect_timeout),
    )


def telegram_bot(settings: Settings) -> Bot:
    """The Bot of BOT_TOKEN, on the Bot API server of TELEGRAM_API_URL."""
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=PinnedAiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
    )


def chat_order(settings: Settings, redis: RedisClient, keys: RedisKeys) -> ChatOrder:
    """One update at a time per chat: across replicas on a Redis server, else in-process."""
    # Without a Redis server there is one process and nothing to share: in-process order.
    return (
        RedisChatOrder(redis, keys, ttl=settings.chat_lock_ttl)
        if settings.redis_url
        else ChatLocks()
    )


def access_policy(settings: Settings) -> AccessPolicy:
    """Who may use the bot, with what quotas and flood limits."""
    return AccessPolicy(
        admins=settings.admin_ids,
        mode=settings.access_mode,
        allowed_users=settings.allowed_user_ids,
        allowed_chats=settings.allowed_chat_ids,
        daily_quota=settings.daily_token_quota,
        monthly_quota=settings.monthly_token_quota,
        flood_messages=settings.flood_messages,
        flood_window=settings.flood_window,
        users_pick_models=settings.users_can_pick_model,
    )


def conversation_config(settings: Settings) -> ConversationConfig:
    """The system prompt, the context's token budget and the answers' limits."""
    return ConversationConfig(
        system_prompt=settings.system_prompt,
        token_budget=settings.context_token_budget,
        max_tokens=settings.max_tokens,
        limits=AnswerLimits(settings.answer_timeout, settings.content_idle_timeout),
    )


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
