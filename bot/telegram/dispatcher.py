"""The dispatcher: update middlewares in the order they run, then the routers."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher

from bot.core.access import Gate
from bot.metrics import Metrics
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.context import ContextMiddleware
from bot.telegram.handlers import admin, buttons, chat, commands, errors, models, settings
from bot.telegram.middlewares import ChatOrder, ChatOrderMiddleware
from bot.telegram.runtime.running import HoldUpdates, Running


def build_dispatcher(
    *,
    admins: frozenset[int],
    gate: Gate,
    order: ChatOrder,
    running: Running,
    metrics: Metrics,
    chat_admins: ChatAdmins,
    **services: Any,
) -> Dispatcher:
    """`services` are given to handlers by name (answering, notices, service, models, ...)."""
    dispatcher = Dispatcher(gate=gate, order=order, chat_admins=chat_admins, **services)
    dispatcher.update.outer_middleware(HoldUpdates(running, metrics))
    dispatcher.update.outer_middleware(ContextMiddleware(gate, chat_admins))
    dispatcher.update.outer_middleware(ChatOrderMiddleware(order))
    dispatcher.include_routers(
        admin.router(admins),
        admin.refusals(),
        models.router(),
        settings.router(),
        commands.router(),
        buttons.router(),
        chat.router(),
        errors.router(),
    )
    return dispatcher
