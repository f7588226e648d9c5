"""Composition root: builds every dependency once and runs the bot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import fakeredis
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from openai import AsyncOpenAI, DefaultAioHttpClient, Timeout
from redis.asyncio import Redis

from bot.adapters.gonka import GonkaGateway
from bot.adapters.gonka_catalog import GonkaCatalog
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_settings import RedisAccessStore, RedisChatSettings
from bot.adapters.redis_store import RedisHistoryStore, RedisUsageStore
from bot.config import Settings
from bot.core.access import AccessPolicy, Gate
from bot.core.conversation import ConversationConfig, ConversationService
from bot.core.errors import BotError
from bot.core.model_choice import ModelResolver
from bot.core.monitor import UpstreamMonitor
from bot.core.stats import StatsService
from bot.telegram.delivery import ApiCounters
from bot.telegram.generations import Generations
from bot.telegram.handlers import admin, chat, commands, errors
from bot.telegram.handlers import settings as chat_settings
from bot.telegram.middlewares import ChatLocks, ChatOrderMiddleware, LanguageMiddleware
from bot.telegram.pacing import Pacers, Rate
from bot.telegram.responder import Responder, ResponderOptions

log = logging.getLogger(__name__)


@dataclass(slots=True)
class App:
    """Everything the running bot is made of; `close()` releases it."""

    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    redis: Redis
    llm: AsyncOpenAI
    counters: ApiCounters
    generations: Generations
    models: ModelResolver

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
        try:
            await self.models.startup_check()
        except BotError as exc:  # e.g. Redis down: the first turn will say so to the user
            log.warning("model check at start-up failed error=%s", type(exc).__name__)
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(
            self.bot,
            polling_timeout=polling_timeout,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            handle_signals=handle_signals,
            close_bot_session=False,
        )

    async def close(self) -> None:
        await self.bot.session.close()
        await self.llm.close()
        await self.redis.aclose()


def build_redis(settings: Settings) -> Redis:
    if settings.redis_url:
        return Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    log.warning("REDIS_URL is not set: history and usage are kept in memory only")
    return fakeredis.aioredis.FakeRedis()


def build_app(settings: Settings, clock: Callable[[], datetime] | None = None) -> App:
    """The composition root: settings in, a ready-to-run App out (`clock`: UTC now, for tests)."""
    now = clock or (lambda: datetime.now(UTC))
    redis = build_redis(settings)
    keys = RedisKeys(settings.redis_key_prefix)
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
    monitor = UpstreamMonitor()
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
        GonkaGateway(llm, settings.temperature),
        ConversationConfig(
            system_prompt=settings.system_prompt,
            token_budget=settings.context_token_budget,
            max_tokens=settings.max_tokens,
        ),
        clock=now,
        prompts=chat_store,
        monitor=monitor,
    )
    bot = Bot(
        token=settings.bot_token.get_secret_value(),
        session=AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
    )
    counters = ApiCounters()
    generations = Generations()
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
    responder = Responder(
        bot,
        service,
        generations,
        pacers,
        counters,
        ResponderOptions(
            use_drafts=settings.use_drafts,
            show_reasoning=settings.show_reasoning == "folded",
            message_limit=settings.message_limit,
            rich_messages=settings.rich_messages,
            rich_drafts=settings.rich_drafts,
        ),
        models,
        gate,
    )
    locks = ChatLocks()
    dispatcher = Dispatcher(
        service=service,
        responder=responder,
        locks=locks,
        price_per_million=settings.price_per_million_tokens,
        models=models,
        gate=gate,
        stats=StatsService(usage_store, catalog, monitor, now),
    )
    dispatcher.update.outer_middleware(LanguageMiddleware())
    dispatcher.message.outer_middleware(ChatOrderMiddleware(locks))
    dispatcher.include_routers(
        admin.setup(settings.admin_ids),
        admin.refusals(),
        chat_settings.setup(),
        commands.setup(),
        chat.setup(),
        errors.setup(),
    )
    return App(settings, bot, dispatcher, redis, llm, counters, generations, models)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    # httpx logs full request URLs; the Bot API URL carries the bot token.
    for noisy in ("httpx", "httpx2", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
