"""Webhook receiver: checks the secret, drops redeliveries, answers Telegram at once and
handles the update in a task it owns."""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.core.errors import StorageUnavailable
from bot.core.ports import ChatOrder
from bot.telegram.runtime.running import Running
from bot.telegram.runtime.update_slots import backlog
from bot.telegram.session import log_skipped

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookReceiver:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        order: ChatOrder,
        secret: str,
        running: Running,
        *,
        max_concurrent: int = 64,
    ) -> None:
        # Updates in hand at once; the cap on those handled is the dispatcher's (UpdateSlots).
        self._backlog = asyncio.Semaphore(backlog(max_concurrent))
        self._dispatcher = dispatcher
        self._bot = bot
        self._order = order
        self._secret = secret.encode()
        self._running = running
        self.accepting = True

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request with a wrong secret remote=%s", request.remote)
            return web.Response(status=401, text="Unauthorized")
        if not self.accepting:
            # Shutting down: Telegram retries, and another replica takes it.
            return web.Response(status=503, text="Shutting down")
        try:
            raw = await request.json()
        except ValueError:
            return web.Response(status=400, text="Bad update")
        try:
            update = Update.model_validate(raw, context={"bot": self._bot})
        except ValidationError as exc:
            # Telegram redelivers it until a 2xx and holds the updates after it: skipped.
            log_skipped(raw, exc)
            return web.Response(text="ok")
        # Admitted before the answer, so a retry finds it taken and the chat's queue has it
        # in update_id order before Telegram sends the next update.
        context = UserContextMiddleware.resolve_event_context(update)
        chat_id = context.chat_id if update.message is not None else None
        admitted = True
        try:
            if not await self._order.admit(update.update_id, chat_id):
                log.info("duplicate update dropped update_id=%s", update.update_id)
                return web.Response(text="ok")
        except StorageUnavailable:
            admitted = False  # the middleware tries again and tells the user
        task = asyncio.create_task(self._feed(update, admitted))
        self._running.hold(task)  # a shutdown lets it finish
        return web.Response(text="ok")

    async def _feed(self, update: Update, admitted: bool) -> None:
        try:
            async with self._backlog:
                await self._dispatcher.feed_update(self._bot, update, admitted=admitted)
        except Exception:
            log.exception("update failed update_id=%s", update.update_id)

    def stop(self) -> None:
        """Take no more updates (those in hand are `Running`'s to finish)."""
        self.accepting = False
