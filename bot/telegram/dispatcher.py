"""The dispatcher: update middlewares in the order they run, the routers, and the objects
handlers are given by name (answering, notices, stopping, service, models, ...)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.config import Settings
from bot.core.access import Gate
from bot.core.coalesce import Coalescer
from bot.core.conversation import ConversationService
from bot.core.documents import DocumentLimits
from bot.core.inline import InlinePending
from bot.core.inputs import BurstLimiter
from bot.core.jobs import JobRunner
from bot.core.model_choice import ModelResolver
from bot.core.modes import Modes
from bot.core.monitor import Monitor
from bot.core.payment_ledger import PaymentLedger
from bot.core.ports import ChatOrder, ChatSettingsStore, ReplicaSignals
from bot.core.redo import Questions
from bot.core.stats import StatsService
from bot.core.tool_rounds import ToolKit
from bot.core.turns import Turns
from bot.core.usage_chart import DailyUsage
from bot.core.variants import Variants
from bot.core.voice import DOWNLOAD_LIMIT, SpeechReport, SpeechUsage, Transcriber, VoiceLimits
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.coalescing import CoalesceMiddleware, coalesce_config
from bot.telegram.context import ContextMiddleware
from bot.telegram.dependencies import check_dependencies
from bot.telegram.handlers import (
    admin,
    buttons,
    chat,
    commands,
    conversation,
    edits,
    errors,
    export,
    inline,
    models,
    modes,
    payments,
    settings,
    tools,
)
from bot.telegram.inline_answers import InlineAnswers
from bot.telegram.inline_queries import InlineQueries
from bot.telegram.input_kinds import VOICE, Reader
from bot.telegram.input_turns import InputOptions, InputTurns
from bot.telegram.job_owner import JobOwnerMiddleware
from bot.telegram.notices import NoticeOptions, Notices
from bot.telegram.pacing import Pacers
from bot.telegram.redo_first import RedoFirst
from bot.telegram.runtime.chat_order import ChatOrderMiddleware
from bot.telegram.runtime.fsm_storage import BoundedStorage
from bot.telegram.runtime.running import HoldUpdates, Running
from bot.telegram.runtime.update_slots import UpdateSlots
from bot.telegram.stopping import Stopping
from bot.telegram.usage_pictures import UsagePictures
from bot.telegram.voice_turns import VoiceReader


@dataclass(frozen=True, slots=True)
class Parts:
    """What the Telegram layer is built on (made by the composition root)."""

    bot: Bot
    service: ConversationService
    turns: Turns
    models: ModelResolver
    gate: Gate
    stats: StatsService
    order: ChatOrder
    running: Running
    monitor: Monitor
    pacers: Pacers
    signals: ReplicaSignals
    jobs: JobRunner
    payments: PaymentLedger
    tools: ToolKit | None = None  # opened at start-up, before updates are taken
    inline: InlineParts | None = None  # inline mode (INLINE_MODE): None leaves it off

    # Voice (issue 22): the transcription endpoint (None: voice is off) and its counters.
    transcriber: Transcriber | None = None
    speech: SpeechUsage | None = None
    daily: DailyUsage | None = None  # the daily series of the /usage and /stats pictures
    variants: Variants | None = None  # the answers' variants (None: no Regenerate)
    questions: Questions | None = None  # the answered questions (None: edits are not redone)
    modes: Modes | None = None  # the chats' modes (None: no /mode)
    settings: ChatSettingsStore | None = None  # a turn's settings in one read (None: one by one)


@dataclass(frozen=True, slots=True)
class InlineParts:
    """What inline mode is built on: its turns (INLINE_MAX_TOKENS) and its pending questions."""

    turns: Turns
    pending: InlinePending


def build_dispatcher(config: Settings, parts: Parts) -> Dispatcher:
    notices = build_notices(config, parts.bot, parts.pacers)
    burst = BurstLimiter(config.quick_reply_window, time.monotonic)
    admission = Admission(
        parts.gate, parts.service, notices, burst, offer_buy=parts.payments.catalog.for_sale
    )
    answering = Answering(
        parts.bot, parts.turns, admission, notices, parts.running, parts.signals, parts.monitor,
        parts.variants, parts.questions, parts.modes, parts.settings,
    )  # fmt: skip
    inputs = InputTurns(
        parts.bot, admission, answering, parts.models, notices, input_options(config), parts.jobs,
        voice_readers(config, parts, notices),
    )  # fmt: skip
    inline_data = build_inline(parts, admission, notices)
    dispatcher = Dispatcher(
        storage=BoundedStorage(),  # aiogram's default keeps a record per chat for ever
        service=parts.service,
        models=parts.models,
        gate=parts.gate,
        stats=parts.stats,
        order=parts.order,
        notices=notices,
        admission=admission,
        answering=answering,
        inputs=inputs,
        stopping=Stopping(parts.running, parts.signals),
        price_per_million=config.price_per_million_tokens,
        speech=SpeechReport(parts.speech, config.transcribe_price_per_minute)
        if parts.speech is not None and parts.transcriber is not None
        else None,
        pictures=UsagePictures(parts.bot, parts.daily, parts.jobs, config.price_per_million_tokens)
        if config.usage_pictures and parts.daily is not None
        else None,
        tools=parts.tools,
        payments=parts.payments,
        pay_support=config.pay_support_text,
        terms=config.terms_text,
        **inline_data,
        modes=parts.modes,
    )
    add_middlewares(dispatcher, config, parts, inputs, answering)
    add_routers(dispatcher, inputs, inline_mode=bool(inline_data))
    check_dependencies(dispatcher)
    return dispatcher


def add_middlewares(
    dispatcher: Dispatcher, config: Settings, parts: Parts, inputs: InputTurns, answering: Answering
) -> None:
    """The update middlewares, in the order they run."""
    dispatcher.update.outer_middleware(HoldUpdates(parts.running, parts.monitor))
    dispatcher.update.outer_middleware(ContextMiddleware(parts.gate, ChatAdmins(parts.bot)))
    dispatcher.update.outer_middleware(JobOwnerMiddleware())
    # Before the chat order: the first part of a paste waits for the next outside the chat's lock.
    coalescer: Coalescer[Message] = Coalescer(coalesce_config(config), time.monotonic)
    dispatcher.update.outer_middleware(CoalesceMiddleware(coalescer, inputs.kinds))
    dispatcher.update.outer_middleware(RedoFirst(answering))
    dispatcher.update.outer_middleware(ChatOrderMiddleware(parts.order))
    dispatcher.update.outer_middleware(UpdateSlots(config.max_concurrent_updates))


def add_routers(dispatcher: Dispatcher, inputs: InputTurns, *, inline_mode: bool) -> None:
    """Every handlers module's router, in the order they are tried."""
    if inline_mode:  # first: its /start inl_... deep link comes before /start
        dispatcher.include_router(inline.router())
    dispatcher.include_routers(
        admin.router(),
        payments.admin_router(),
        admin.refusals(),
        payments.router(),
        models.router(),
        settings.router(),
        tools.router(),
        commands.router(),
        buttons.router(),
        conversation.router(),
        edits.router(),
        modes.router(),
        export.router(),
        chat.router(inputs.kinds),
        errors.router(),
    )


def build_inline(parts: Parts, admission: Admission, notices: Notices) -> dict[str, Any]:
    """Inline mode's handler data, or none when it is off."""
    if parts.inline is None:
        return {}
    answers = InlineAnswers(
        parts.bot, parts.inline.turns, parts.inline.pending, admission, notices, parts.pacers,
        parts.running,
    )  # fmt: skip
    queries = InlineQueries(admission, parts.inline.pending, parts.models)
    return {"inline_answers": answers, "inline_queries": queries}


def voice_readers(config: Settings, parts: Parts, notices: Notices) -> dict[str, Reader]:
    """The voice kind's reader when a transcription endpoint is configured (else voice is off)."""
    if parts.transcriber is None or parts.speech is None:
        return {}
    limits = VoiceLimits(config.transcribe_max_seconds, DOWNLOAD_LIMIT)
    clock = partial(datetime.now, UTC)
    reader = VoiceReader(parts.bot, notices, parts.transcriber, limits, parts.speech, clock)
    return {VOICE.name: reader}


def input_options(config: Settings) -> InputOptions:
    return InputOptions(
        limits=DocumentLimits(config.document_max_bytes, config.document_max_pages),
        document_tokens=config.document_tokens,
        document_history_tokens=config.document_history_tokens,
        vision_models=config.vision_models,
    )


def build_notices(config: Settings, bot: Bot, pacers: Pacers) -> Notices:
    options = NoticeOptions(
        use_drafts=config.use_drafts,
        show_reasoning=config.show_reasoning == "folded",
        message_limit=config.message_limit,
        rich_messages=config.rich_messages,
        rich_drafts=config.rich_drafts,
    )
    return Notices(bot, pacers, options)
