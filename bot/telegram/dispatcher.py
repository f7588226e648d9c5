"""The dispatcher: update middlewares in the order they run, the routers, and the objects
handlers are given by name (answering, notices, stopping, service, models, ...)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.config import Settings
from bot.core.access import Gate
from bot.core.coalesce import Coalescer
from bot.core.conversation import ConversationService
from bot.core.documents import DocumentLimits
from bot.core.inputs import BurstLimiter
from bot.core.jobs import JobRunner
from bot.core.model_choice import ModelResolver
from bot.core.modes import Modes
from bot.core.ports import ChatOrder, ReplicaSignals
from bot.core.redo import Questions
from bot.core.stats import StatsService
from bot.core.tool_rounds import ToolKit
from bot.core.turns import Turns
from bot.core.variants import Variants
from bot.metrics import Metrics
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.coalescing import CoalesceMiddleware, coalesce_config
from bot.telegram.context import ContextMiddleware
from bot.telegram.handlers import (
    admin,
    buttons,
    chat,
    commands,
    conversation,
    edits,
    errors,
    export,
    models,
    modes,
    settings,
    tools,
)
from bot.telegram.input_turns import InputOptions, InputTurns
from bot.telegram.job_owner import JobOwnerMiddleware
from bot.telegram.notices import NoticeOptions, Notices
from bot.telegram.pacing import Pacers
from bot.telegram.redo_first import RedoFirst
from bot.telegram.runtime.chat_order import ChatOrderMiddleware
from bot.telegram.runtime.running import HoldUpdates, Running
from bot.telegram.runtime.update_slots import UpdateSlots
from bot.telegram.stopping import Stopping


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
    metrics: Metrics
    pacers: Pacers
    signals: ReplicaSignals
    jobs: JobRunner
    variants: Variants | None = None  # the answers' variants (None: no Regenerate)
    questions: Questions | None = None  # the answered questions (None: edits are not redone)
    modes: Modes | None = None  # the chats' modes (None: no /mode)
    tools: ToolKit | None = None  # opened at start-up, before updates are taken


def build_dispatcher(config: Settings, parts: Parts) -> Dispatcher:
    notices = build_notices(config, parts.bot, parts.pacers)
    burst = BurstLimiter(config.quick_reply_window, time.monotonic)
    admission = Admission(parts.gate, parts.service, notices, burst)
    answering = Answering(
        parts.bot, parts.turns, admission, notices, parts.running, parts.signals, parts.metrics,
        parts.variants, parts.questions, parts.modes,
    )  # fmt: skip
    inputs = InputTurns(
        parts.bot, admission, answering, parts.models, notices, input_options(config), parts.jobs
    )
    chat_admins = ChatAdmins(parts.bot)
    dispatcher = Dispatcher(
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
        tools=parts.tools,
        modes=parts.modes,
    )
    dispatcher.update.outer_middleware(HoldUpdates(parts.running, parts.metrics))
    dispatcher.update.outer_middleware(ContextMiddleware(parts.gate, chat_admins))
    dispatcher.update.outer_middleware(JobOwnerMiddleware())
    # Before the chat order: the first part of a paste waits for the next outside the chat's lock.
    coalescer: Coalescer[Message] = Coalescer(coalesce_config(config), time.monotonic)
    dispatcher.update.outer_middleware(CoalesceMiddleware(coalescer))
    dispatcher.update.outer_middleware(RedoFirst(answering))
    dispatcher.update.outer_middleware(ChatOrderMiddleware(parts.order))
    dispatcher.update.outer_middleware(UpdateSlots(config.max_concurrent_updates))
    dispatcher.include_routers(
        admin.router(config.admin_ids),
        admin.refusals(),
        models.router(),
        settings.router(),
        tools.router(),
        commands.router(),
        buttons.router(),
        conversation.router(),
        edits.router(),
        modes.router(),
        export.router(),
        chat.router(),
        errors.router(),
    )
    return dispatcher


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
