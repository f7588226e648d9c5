"""A faithful fake Telegram Bot API server (aiohttp) for tests.

Point a real aiogram ``Bot`` at it::

    async with FakeTelegramServer() as tg:
        bot = tg.make_bot()  # or AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
        await tg.send_text(42, "hello")       # queue an Update for getUpdates
        await tg.wait_for(lambda: tg.last_bot_text(42) is not None)

Validation, error texts and flood control live in ``fake_telegram_limits``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from tests.doubles.fake_telegram_commands import check_commands, commands_key, parse_commands
from tests.doubles.fake_telegram_files import FileStore, InputUpdates
from tests.doubles.fake_telegram_inline import InlineMode, forbidden_to_start
from tests.doubles.fake_telegram_limits import (
    ApiError,
    Failure,
    FloodController,
    FloodLimits,
    bad_request,
    prepare_text,
    utf16_len,
)
from tests.doubles.fake_telegram_rich import no_rich_in_old_server, prepare_rich, rich_blocks
from tests.doubles.fake_telegram_stars import FakeStars

DEFAULT_TOKEN = "123456789:TEST-fake-telegram-token"
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
# Fields Telegram treats as strings even when they look like numbers / JSON.
STR_FIELDS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "action", "url", "inline_message_id",
        "inline_query_id",
        "language_code", "business_connection_id", "message_effect_id", "secret_token",
        "description", "short_description", "name", "emoji", "sticker", "photo", "voice",
        "title", "payload", "currency", "pre_checkout_query_id", "error_message",
        "telegram_payment_charge_id",
    }
)  # fmt: skip
# Update types delivered when allowed_updates is empty / never set.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the"
    " same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}")
_URL_RE = re.compile(r"https?://[^\s<>\"]+")

_IMPLEMENTED = (
    "getMe", "getUpdates", "deleteWebhook", "setWebhook", "getWebhookInfo", "setMyCommands",
    "deleteMyCommands", "getMyCommands", "sendMessage", "editMessageText", "sendMessageDraft",
    "sendChatAction", "answerCallbackQuery", "editMessageReplyMarkup", "deleteMessage", "getChat",
    "createForumTopic", "editForumTopic", "getChatMember", "answerInlineQuery", "sendPhoto",
    "sendDocument",
)  # fmt: skip
UPLOAD_LIMIT = 50 * 1024 * 1024
# Bot API 10.1+ (a self-hosted server built before it answers 404 "method not found").
_RICH = ("sendRichMessage", "sendRichMessageDraft")
_ALWAYS_TRUE = (
    "close", "logOut", "setMyDescription", "setMyShortDescription", "setMyName",
    "setChatMenuButton", "setMessageReaction", "pinChatMessage", "unpinChatMessage",
)  # fmt: skip

Json = dict[str, Any]
Handler = Callable[[Json], Awaitable[Any]]


# Telegram's service users behind messages posted under a chat's name.
CHANNEL_BOT_ID = 136817688
GROUP_ANONYMOUS_BOT_ID = 1087968824


@dataclass(frozen=True)
class Call:
    """One API call as the server saw it. ``params`` has JSON fields decoded."""

    method: str
    params: Json
    at: float  # clock() when the request arrived
    status: int  # HTTP status answered
    description: str | None = None


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    date: int
    from_bot: bool
    sender: Json
    text: str | None = None
    entities: list[Json] = field(default_factory=list)
    reply_markup: Json | None = None
    message_thread_id: int | None = None
    is_topic_message: bool = False
    reply_to_message_id: int | None = None
    media: Json = field(default_factory=dict)  # e.g. {"sticker": {...}} or {"photo": [...]}
    rich_markdown: str | None = None  # a rich message: the Markdown the bot sent, as sent
    edit_date: int | None = None
    edits: int = 0

    @property
    def streaming(self) -> bool:
        """It has a Stop button: the bot still streams the answer into it (a finished answer
        has its own buttons, or none)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return any(str(b.get("callback_data", "")).startswith("stop:") for r in rows for b in r)


@dataclass
class Draft:
    chat_id: int
    draft_id: int
    message_thread_id: int | None
    text: str
    entities: list[Json]
    can_stop: bool
    keep_on_stop: bool
    updated_at: float
    updates: int = 1
    rich_markdown: str | None = None  # set for sendRichMessageDraft


@dataclass
class ChatState:
    chat: Json
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    drafts: dict[tuple[int | None, int], Draft] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    next_message_id: int = 1
    topics: dict[int, str] = field(default_factory=dict)  # thread id -> name (private topics)
    # Group members' statuses other than "member": "creator", "administrator", "left", "kicked".
    statuses: dict[int, str] = field(default_factory=dict)
    # Ephemeral messages: seen only by their receiver (and the bot); message_id is 0 for them.
    ephemeral: list[StoredMessage] = field(default_factory=list)
    ephemeral_from_users: dict[int, tuple[int, float]] = field(default_factory=dict)
    next_ephemeral_id: int = 1


class FakeTelegramServer(InputUpdates, InlineMode):
    """Fake Bot API on 127.0.0.1:<random port>. See module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "fake_llm_bot",
        first_name: str = "Fake LLM Bot",
        bot_id: int | None = None,
        can_read_all_group_messages: bool = False,
        has_topics_enabled: bool = False,
        drafts_enabled: bool = True,
        rich_methods: bool = True,
        limits: FloodLimits | None = None,
        callback_ttl: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_user: Json = {
            "id": bot_id if bot_id is not None else int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": True,
            "has_topics_enabled": has_topics_enabled,
        }
        self.drafts_enabled = drafts_enabled
        self.rich_methods = rich_methods
        self.callback_ttl = callback_ttl
        self.clock = clock
        self.host, self.port = host, port
        self.flood = FloodController(limits or FloodLimits(), clock)
        self.calls: list[Call] = []
        self.count_429 = 0
        self.internal_errors: list[BaseException] = []
        self.uploaded_photos: list[bytes] = []  # sendPhoto uploads (multipart), in order
        self.chats: dict[int, ChatState] = {}
        self.pending_updates: list[Json] = []
        self.dropped_updates: list[Json] = []  # filtered out by allowed_updates
        self.allowed_updates: list[str] | None = None
        self.webhook_url = ""
        self.webhook_secret = ""
        # Webhook mode: every POST made to the bot, (update_id, HTTP status or 0 when unreachable).
        self.webhook_posts: list[tuple[int, int]] = []
        self.webhook_retry_delay = 0.2
        self._webhook_task: asyncio.Task[None] | None = None
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.callback_answers: dict[str, Json] = {}
        self.blocked_users: set[int] = set()
        # Users who never opened the bot's private chat: the bot cannot write to them first.
        self.unstarted_users: set[int] = set()
        self._inline_init()
        self.uploads: dict[int, bytes] = {}  # message id -> the document the bot uploaded
        self._callbacks: dict[str, float] = {}
        self._failures: dict[str, deque[Failure]] = {}
        self._delays: dict[str, deque[float]] = {}
        self.response_delay: dict[str, float] = {}
        self._update_ids = itertools.count(100_000)
        self._query_ids = itertools.count(4_610_000_000_000_000_001)
        self._poll_generation = 0
        # getUpdates requests received (calls_of() lists a call once answered: a long poll
        # with nothing to return answers only at its timeout).
        self.polls_started = 0
        self._delivered: dict[int, Json] = {}
        self._closing = False
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, Handler] = {}
        self._names: dict[str, str] = {}
        for name in _IMPLEMENTED:
            snake = re.sub(r"([A-Z])", r"_\1", name).lower()
            self.register(name, getattr(self, f"_m_{snake}"))
        for name in _ALWAYS_TRUE:
            self.register(name, self._m_true)
        if rich_methods:
            self.register("sendRichMessage", self._m_send_rich_message)
            self.register("sendRichMessageDraft", self._m_send_rich_message_draft)
        self.files = FileStore(token, clock)  # getFile and /file/bot<token>/<path>
        self.register("getFile", self.files.get_file)
        self.stars = FakeStars(self)  # sendInvoice, answerPreCheckoutQuery, refunds, ...
        self.stars.install()

    # ---------------------------------------------------------------- lifecycle / config
    @property
    def limits(self) -> FloodLimits:
        return self.flood.limits

    @limits.setter
    def limits(self, value: FloodLimits) -> None:
        self.flood.limits = value
        self.flood.reset()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def register(self, method: str, handler: Handler) -> None:
        """Add or replace a method handler (receives decoded params, returns the result)."""
        self._handlers[method.lower()] = handler
        self._names[method.lower()] = method

    async def start(self) -> Self:
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/file/{path:.*}", self.files.download)
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._stop_webhook()
        self._notify()
        await asyncio.sleep(0.01)  # let waiting getUpdates calls answer
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """An aiogram Bot talking to this server (caller closes ``bot.session``)."""
        session = _LocalSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(self.token, session=session, **bot_kwargs)

    # ---------------------------------------------------------------- failure injection
    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        after_apply: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error. ``after_apply``: the
        call takes effect (message sent / edited) but the error is answered anyway."""
        if status == 429 and retry_after is None:
            retry_after = 1
        queue = self._failures.setdefault(method.lower(), deque())
        for _ in range(times):
            queue.append(Failure(status, description, retry_after, after_apply))

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Delay the responses of the next ``times`` calls (after the call took effect)."""
        self._delays.setdefault(method.lower(), deque()).extend([seconds] * times)

    # ---------------------------------------------------------------- HTTP plumbing
    async def _handle(self, request: web.Request) -> web.Response:
        at = self.clock()
        path = request.match_info["path"]
        token, _, raw_method = path[3:].partition("/") if path.startswith("bot") else ("", "", "")
        if token != self.token:
            return self._reply(raw_method or path, {}, at, ApiError(401, "Unauthorized"))
        key = raw_method.lower()
        method = self._names.get(key, raw_method)
        try:
            params = await _read_params(request)
        except ApiError as exc:
            return self._reply(method, {}, at, exc)
        handler = self._handlers.get(key)
        if handler is None:
            return self._reply(method, params, at, ApiError(404, "Not Found: method not found"))
        failures = self._failures.get(key)
        failure = failures.popleft() if failures else None
        result: Any = None
        error: ApiError | None = None
        try:
            if failure is not None and not failure.after_apply:
                raise ApiError(failure.status, failure.description, failure.retry_after)
            result = await handler(params)
            if failure is not None:
                raise ApiError(failure.status, failure.description, failure.retry_after)
        except ApiError as exc:
            error = exc
        except Exception as exc:  # a bug in the fake or a malformed request: surface it
            self.internal_errors.append(exc)
            error = ApiError(500, f"Internal Server Error: {type(exc).__name__}: {exc}")
        delays = self._delays.get(key)
        delay = (delays.popleft() if delays else 0.0) + self.response_delay.get(method, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        return self._reply(method, params, at, error, result)

    def _reply(
        self, method: str, params: Json, at: float, error: ApiError | None, result: Any = None
    ) -> web.Response:
        if error is None:
            body: Json = {"ok": True, "result": result}
            status = 200
        else:
            status = error.status
            body = {"ok": False, "error_code": status, "description": error.description}
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            if status == 429:
                self.count_429 += 1
        self.calls.append(Call(method, params, at, status, body.get("description")))
        self._notify()
        return web.json_response(body, status=status)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ---------------------------------------------------------------- state helpers
    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def chat(self, chat_id: int) -> ChatState:
        state = self.chats.get(chat_id)
        if state is None:
            if chat_id > 0:
                chat: Json = {"id": chat_id, "type": "private", "first_name": "User"}
            else:
                kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
                chat = {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
            state = self.chats[chat_id] = ChatState(chat)
        return state

    def messages(self, chat_id: int) -> list[StoredMessage]:
        return list(self.chat(chat_id).messages.values())

    def bot_messages(self, chat_id: int) -> list[StoredMessage]:
        return [m for m in self.messages(chat_id) if m.from_bot]

    def last_bot_text(self, chat_id: int) -> str | None:
        msgs = self.bot_messages(chat_id)
        return msgs[-1].text if msgs else None

    def draft(
        self, chat_id: int, draft_id: int, message_thread_id: int | None = None
    ) -> Draft | None:
        return self.chat(chat_id).drafts.get((message_thread_id, draft_id))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every call/update); return it."""
        deadline = time.monotonic() + timeout
        while True:
            event = self._changed
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                last = [(c.method, c.status, c.description) for c in self.calls[-5:]]
                raise TimeoutError(f"condition not met in {timeout}s; last calls: {last}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))

    # ---------------------------------------------------------------- webhook delivery
    async def _post_update(self, update: Json) -> int:
        """POST one update to the webhook like Telegram does; the HTTP status, 0 if unreachable."""
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        )
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.post(self.webhook_url, json=update, headers=headers) as response,
            ):
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        self.webhook_posts.append((int(update["update_id"]), status))
        self._notify()
        return status

    async def _deliver_webhook(self) -> None:
        """Telegram's side of a webhook: pending updates in order, each retried until a 2xx."""
        while not self._closing and self.webhook_url:
            event = self._changed
            self._filter_updates()
            if not self.pending_updates:
                await event.wait()
                continue
            update = self.pending_updates[0]
            status = await self._post_update(update)
            if 200 <= status < 300:
                if self.pending_updates and self.pending_updates[0] is update:
                    self.pending_updates.pop(0)
            else:
                await asyncio.sleep(self.webhook_retry_delay)

    async def redeliver(self, update_id: int) -> int:
        """Telegram sends an update again (it did not see the answer in time); the status."""
        update = next(u for u in self.delivered if u["update_id"] == update_id)
        return await self._post_update(update)

    @property
    def delivered(self) -> list[Json]:
        return list(self._delivered.values())

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---------------------------------------------------------------- update injection
    async def raw_update(self, update: Json) -> int:
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self.pending_updates.append(update)
        self._delivered[int(update["update_id"])] = update
        self._notify()
        return int(update["update_id"])

    def _user(self, user_id: int, first_name: str, username: str | None, lang: str | None) -> Json:
        # Telegram's service accounts behind messages posted under a chat's name are bots.
        is_bot = user_id in (CHANNEL_BOT_ID, GROUP_ANONYMOUS_BOT_ID)
        user: Json = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        if lang:
            user["language_code"] = lang
        return user

    async def _user_message(
        self,
        chat_id: int,
        content: Json,
        *,
        user_id: int | None,
        first_name: str,
        username: str | None,
        language_code: str | None,
        chat_type: str | None,
        chat_title: str | None,
        message_thread_id: int | None,
        is_topic_message: bool,
        reply_to_message_id: int | None,
    ) -> int:
        state = self.chat(chat_id)
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 111_111)
        user = self._user(uid, first_name, username, language_code)
        kind = chat_type or state.chat["type"]
        if kind == "private":
            self.unstarted_users.discard(chat_id)  # the user opened the chat: the bot may write
            state.chat = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                state.chat["username"] = username
        else:
            state.chat = {"id": chat_id, "type": kind, "title": chat_title or f"Chat {chat_id}"}
            if kind == "supergroup" and (is_topic_message or message_thread_id is not None):
                state.chat["is_forum"] = True
        if reply_to_message_id is not None and reply_to_message_id not in state.messages:
            raise KeyError(f"reply_to_message_id {reply_to_message_id} not in chat {chat_id}")
        msg = self._store(
            state,
            from_bot=False,
            sender=user,
            text=content.pop("text", None),
            entities=content.pop("entities", None) or [],
            thread=message_thread_id,
            is_topic=is_topic_message,
            reply_to=reply_to_message_id,
            media=content,
        )
        await self.raw_update({"message": self._message_json(msg)})
        return msg.message_id

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Test User",
        username: str | None = None,
        language_code: str | None = "en",
        chat_type: str | None = None,
        chat_title: str | None = None,
        message_thread_id: int | None = None,
        is_topic_message: bool = False,
        reply_to_message_id: int | None = None,
        entities: list[Json] | None = None,
    ) -> int:
        """A user writes ``text``; returns the new message id. Without ``entities``, bot_command,
        mention and url entities are detected like Telegram does."""
        if entities is None:
            entities = _detect_entities(text)
        return await self._user_message(
            chat_id,
            {"text": text, "entities": entities},
            user_id=user_id, first_name=first_name, username=username,
            language_code=language_code, chat_type=chat_type, chat_title=chat_title,
            message_thread_id=message_thread_id, is_topic_message=is_topic_message,
            reply_to_message_id=reply_to_message_id,
        )  # fmt: skip

    async def send_as_chat(self, chat_id: int, text: str, sender_chat: Json, **kw: Any) -> int:
        """A group message posted under a chat's name: a linked channel, or an anonymous admin
        (`sender_chat` is the group itself). Telegram sends every such message from one
        service user: Channel_Bot, or GroupAnonymousBot for anonymous admins."""
        anonymous = sender_chat["id"] == chat_id
        kw.update(
            user_id=GROUP_ANONYMOUS_BOT_ID if anonymous else CHANNEL_BOT_ID,
            first_name="Group" if anonymous else "Channel",
            username="GroupAnonymousBot" if anonymous else "Channel_Bot",
            language_code=None,
        )
        content = {"text": text, "entities": _detect_entities(text), "sender_chat": sender_chat}
        return await self._user_message(chat_id, content, **_msg_kwargs(kw))

    async def send_sticker(self, chat_id: int, *, emoji: str = "👍", **kw: Any) -> int:
        sticker = {"file_id": "CAACAgIAAxk-sticker", "file_unique_id": "AgADsticker",
                   "type": "regular", "width": 512, "height": 512, "is_animated": False,
                   "is_video": False, "emoji": emoji}  # fmt: skip
        return await self._user_message(chat_id, {"sticker": sticker}, **_msg_kwargs(kw))

    async def send_photo(self, chat_id: int, *, caption: str | None = None, **kw: Any) -> int:
        photo = [
            {"file_id": f"AgACAgIAAxk-photo-{w}", "file_unique_id": f"AQADphoto{w}",
             "width": w, "height": w * 3 // 4, "file_size": w * 100}
            for w in (90, 320, 1280)
        ]  # fmt: skip
        content: Json = {"photo": photo}
        if caption:
            content["caption"] = caption
        return await self._user_message(chat_id, content, **_msg_kwargs(kw))

    async def send_ephemeral_command(
        self, chat_id: int, text: str, *, user_id: int, first_name: str = "Test User"
    ) -> int:
        """A group member sends an ephemeral command (BotCommand.is_ephemeral): invisible to the
        others, with message_id 0; returns its ephemeral_message_id."""
        state = self.chat(chat_id)
        ephemeral_id = state.next_ephemeral_id
        state.next_ephemeral_id += 1
        state.ephemeral_from_users[ephemeral_id] = (user_id, self.clock())
        message: Json = {
            "message_id": 0,
            "ephemeral_message_id": ephemeral_id,
            "date": int(time.time()),
            "chat": dict(state.chat),
            "from": self._user(user_id, first_name, None, "en"),
            "text": text,
            "entities": _detect_entities(text),
        }
        await self.raw_update({"message": message})
        return ephemeral_id

    def ephemeral_messages(self, chat_id: int, receiver: int) -> list[StoredMessage]:
        return [m for m in self.chat(chat_id).ephemeral if m.sender.get("receiver") == receiver]

    async def send_rich(self, chat_id: int, blocks: list[Json], **kw: Any) -> int:
        """A user sends a rich message (e.g. pasted formatted text): no text, no entities."""
        return await self._user_message(
            chat_id, {"rich_message": {"blocks": blocks}}, **_msg_kwargs(kw)
        )

    async def send_voice(self, chat_id: int, *, duration: int = 3, **kw: Any) -> int:
        voice = {"file_id": "AwACAgIAAxk-voice", "file_unique_id": "AgADvoice",
                 "duration": duration, "mime_type": "audio/ogg", "file_size": 12_345}  # fmt: skip
        return await self._user_message(chat_id, {"voice": voice}, **_msg_kwargs(kw))

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, entities: list[Json] | None = None
    ) -> int:
        """The user edits their message ``message_id``: Telegram delivers ``edited_message``
        (the whole message, with ``edit_date``) when allowed_updates asks for it."""
        msg = self.chat(chat_id).messages.get(message_id)
        if msg is None or msg.from_bot:
            raise KeyError(f"no user message {message_id} in chat {chat_id}")
        msg.text = text
        msg.entities = _detect_entities(text) if entities is None else entities
        msg.edit_date, msg.edits = int(time.time()), msg.edits + 1
        return await self.raw_update({"edited_message": self._message_json(msg)})

    async def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        language_code: str | None = "en",
        *,
        first_name: str = "Test User",
        username: str | None = None,
        check_button: bool = True,
    ) -> str:
        """A user presses an inline button; returns the callback query id."""
        msg = self.chat(chat_id).messages.get(message_id)
        if msg is None:
            raise KeyError(f"message {message_id} not in chat {chat_id}")
        rows = (msg.reply_markup or {}).get("inline_keyboard", [])
        if check_button and not any(b.get("callback_data") == data for r in rows for b in r):
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(next(self._query_ids))
        self._callbacks[query_id] = self.clock()
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 111_111)
        query: Json = {
            "id": query_id,
            "from": self._user(uid, first_name, username, language_code),
            "message": self._message_json(msg),
            "chat_instance": str(abs(chat_id) * 7 + 13),
            "data": data,
        }
        await self.raw_update({"callback_query": query})
        return query_id

    async def stop_generation(
        self,
        chat_id: int,
        draft_id: int,
        message_thread_id: int | None = None,
        *,
        check: bool = True,
    ) -> int:
        """The user presses the Stop button of a draft sent with ``can_stop=True``."""
        if check and not any(
            c.status == 200
            and c.params.get("chat_id") == chat_id
            and c.params.get("draft_id") == draft_id
            and c.params.get("can_stop") is True
            for c in self.calls_of("sendMessageDraft") + self.calls_of("sendRichMessageDraft")
        ):
            raise ValueError(f"no draft {draft_id} with can_stop=True was sent to {chat_id}")
        stop: Json = {"chat": dict(self.chat(chat_id).chat), "draft_id": draft_id}
        if message_thread_id is not None:
            stop["message_thread_id"] = message_thread_id
        return await self.raw_update({"stopped_message_generation": stop})

    # ---------------------------------------------------------------- messages
    def _store(
        self,
        state: ChatState,
        *,
        from_bot: bool,
        sender: Json,
        text: str | None,
        entities: list[Json],
        thread: int | None,
        is_topic: bool,
        reply_to: int | None,
        media: Json | None = None,
        reply_markup: Json | None = None,
    ) -> StoredMessage:
        msg = StoredMessage(
            message_id=state.next_message_id,
            chat_id=int(state.chat["id"]),
            date=int(time.time()),
            from_bot=from_bot,
            sender=sender,
            text=text,
            entities=entities,
            reply_markup=reply_markup,
            message_thread_id=thread,
            is_topic_message=is_topic,
            reply_to_message_id=reply_to,
            media=media or {},
        )
        state.next_message_id += 1
        state.messages[msg.message_id] = msg
        return msg

    def _message_json(self, msg: StoredMessage, *, nested: bool = False) -> Json:
        state = self.chat(msg.chat_id)
        data: Json = {"message_id": msg.message_id, "date": msg.date, "chat": dict(state.chat)}
        data["from"] = dict(msg.sender)
        if msg.message_thread_id is not None:
            data["message_thread_id"] = msg.message_thread_id
        if msg.is_topic_message:
            data["is_topic_message"] = True
        if msg.text is not None:
            data["text"] = msg.text
        if msg.entities:
            data["entities"] = [dict(e) for e in msg.entities]
        if msg.rich_markdown is not None:
            data["rich_message"] = {"blocks": rich_blocks(msg.rich_markdown)}
        data.update(msg.media)
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        target = state.messages.get(msg.reply_to_message_id or 0)
        if target is not None and not nested:
            data["reply_to_message"] = self._message_json(target, nested=True)
        return data

    def _target_chat(self, params: Json) -> ChatState:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise bad_request("chat not found")
        if chat_id in self.blocked_users:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.unstarted_users:
            raise forbidden_to_start()
        return self.chat(chat_id)

    def _bot_message(self, params: Json, action: str) -> tuple[ChatState, StoredMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        state = self._target_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise bad_request("message identifier is not specified")
        msg = state.messages.get(message_id)
        if msg is None:
            raise bad_request(f"message to {action} not found")
        if action == "edit" and not msg.from_bot:
            raise bad_request("message can't be edited")
        return state, msg

    async def _m_send_message(self, params: Json) -> Json:
        if params.get("ephemeral_message_parameters") is not None:
            return await self._send_ephemeral(params)
        state = self._target_chat(params)
        text, entities = prepare_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = _check_markup(params.get("reply_markup"), inline_only=False)
        thread = params.get("message_thread_id")
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id", params.get("reply_to_message_id"))
        if reply_to is not None and reply_to not in state.messages:
            anyway = "allow_sending_without_reply"
            if not (reply.get(anyway) or params.get(anyway)):
                raise bad_request("message to be replied not found")
            reply_to = None
        self.flood.check("message", state.chat["id"])
        msg = self._store(
            state, from_bot=True, sender=self.bot_user, text=text, entities=entities,
            thread=thread, is_topic=thread is not None, reply_to=reply_to, reply_markup=markup,
        )  # fmt: skip
        for key in [k for k in state.drafts if k[0] == thread]:
            del state.drafts[key]  # a message from the bot ends its drafts in that thread
        return self._message_json(msg)

    async def _m_send_photo(self, params: Json) -> Json:
        """An uploaded photo (multipart): Telegram takes up to 10 MB of a real image, sides
        summing to at most 10000 pixels."""
        state = self._target_chat(params)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):  # a multipart part's name
            photo = params.get(photo.removeprefix("attach://"))
        if not isinstance(photo, dict) or not photo.get("data"):
            raise bad_request("there is no photo in the request")
        data: bytes = photo["data"]
        size = png_size(data)
        if len(data) > 10 * 1024 * 1024 or size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if sum(size) > 10000:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        self.flood.check("message", state.chat["id"])
        self.uploaded_photos.append(data)
        sizes = [{"file_id": f"AgACAgIAAxk-sent-{len(self.uploaded_photos)}",
                  "file_unique_id": f"AQADsent{len(self.uploaded_photos)}",
                  "width": size[0], "height": size[1], "file_size": len(data)}]  # fmt: skip
        thread = params.get("message_thread_id")
        reply = params.get("reply_parameters") or {}
        msg = self._store(
            state, from_bot=True, sender=self.bot_user, text=None, entities=[], thread=thread,
            is_topic=thread is not None, reply_to=reply.get("message_id"),
            media={"photo": sizes},
        )  # fmt: skip
        return self._message_json(msg)

    async def _m_send_document(self, params: Json) -> Json:
        """A document the bot uploads (multipart) or sends by file_id; the caption is checked
        like Telegram (at most 1024 characters after entities parsing)."""
        state = self._target_chat(params)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))  # a multipart part
            if not isinstance(document, dict):
                raise bad_request("wrong file identifier/HTTP URL specified")
        if isinstance(document, dict) and "content" in document:
            content = document["content"]
            info: Json = {"file_name": document["file"], "mime_type": document["mime_type"],
                          "file_size": len(content), "file_id": f"BQACAgIAAxk-{len(self.uploads)}",
                          "file_unique_id": f"AgAD{len(self.uploads)}"}  # fmt: skip
        elif isinstance(document, str) and document:
            content, info = b"", {"file_id": document, "file_unique_id": document[-8:]}
        else:
            raise bad_request("there is no document in the request")
        caption, _ = prepare_text(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
            allow_empty=True,
        )  # fmt: skip
        if len(caption) > 1024:
            raise bad_request("message caption is too long")
        self.flood.check("message", state.chat["id"])
        thread = params.get("message_thread_id")
        msg = self._store(
            state, from_bot=True, sender=self.bot_user, text=None, entities=[],
            thread=thread, is_topic=thread is not None, reply_to=None,
            media={"document": info, "caption": caption},
        )  # fmt: skip
        self.uploads[msg.message_id] = content
        return self._message_json(msg)

    async def _m_edit_message_text(self, params: Json) -> Json | bool:
        if params.get("inline_message_id"):
            return await self._edit_inline(params)
        state, msg = self._bot_message(params, "edit")
        if msg.text is None and msg.rich_markdown is None:
            raise bad_request("there is no text in the message to edit")
        if self.rich_methods and params.get("rich_message") is not None:
            return await self._edit_rich(state, msg, params)
        old_server = None if self.rich_methods else no_rich_in_old_server(params)
        if old_server is not None:
            raise old_server
        text, entities = prepare_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise bad_request(NOT_MODIFIED)
        self.flood.check("message", state.chat["id"])
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        msg.rich_markdown = None
        msg.edit_date, msg.edits = int(time.time()), msg.edits + 1
        return self._message_json(msg)

    async def _edit_rich(self, state: ChatState, msg: StoredMessage, params: Json) -> Json:
        if params.get("text") not in (None, ""):
            raise bad_request("can't parse rich message: text and rich_message are both specified")
        source, _ = prepare_rich(params.get("rich_message"), draft=False)
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        if (source, markup) == (msg.rich_markdown, msg.reply_markup):
            raise bad_request(NOT_MODIFIED)
        self.flood.check("message", state.chat["id"])
        msg.text, msg.entities, msg.rich_markdown, msg.reply_markup = None, [], source, markup
        msg.edit_date, msg.edits = int(time.time()), msg.edits + 1
        return self._message_json(msg)

    async def _m_send_rich_message(self, params: Json) -> Json:
        state = self._target_chat(params)
        source, _ = prepare_rich(params.get("rich_message"), draft=False)
        markup = _check_markup(params.get("reply_markup"), inline_only=False)
        thread = params.get("message_thread_id")
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id")
        if reply_to is not None and reply_to not in state.messages:
            if not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            reply_to = None
        self.flood.check("message", state.chat["id"])
        msg = self._store(
            state, from_bot=True, sender=self.bot_user, text=None, entities=[],
            thread=thread, is_topic=thread is not None, reply_to=reply_to, reply_markup=markup,
        )  # fmt: skip
        msg.rich_markdown = source
        for key in [k for k in state.drafts if k[0] == thread]:
            del state.drafts[key]
        return self._message_json(msg)

    async def _m_send_rich_message_draft(self, params: Json) -> bool:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id < 0 or not self.drafts_enabled:
            raise bad_request("TEXTDRAFT_PEER_INVALID")
        draft_id = params.get("draft_id")
        if not isinstance(draft_id, int) or isinstance(draft_id, bool) or draft_id == 0:
            raise bad_request("RANDOM_ID_INVALID")
        state = self._target_chat(params)
        source, _ = prepare_rich(params.get("rich_message"), draft=True)
        self.flood.check("typing", chat_id)  # the same typing action as plain drafts
        thread = params.get("message_thread_id")
        old = state.drafts.get((thread, draft_id))
        state.drafts[(thread, draft_id)] = Draft(
            chat_id, draft_id, thread, "", [], params.get("can_stop") is True,
            params.get("keep_on_stop") is True, self.clock(), (old.updates + 1) if old else 1,
            rich_markdown=source,
        )  # fmt: skip
        return True

    async def _send_ephemeral(self, params: Json) -> Json:
        """Bot API 10.3: within 15 s of an eligible action (a callback query, or a reply to an
        incoming ephemeral message of that user); group chats only."""
        state = self._target_chat(params)
        if state.chat["type"] not in ("group", "supergroup"):
            raise bad_request("ephemeral messages can be sent only to group chats")  # [inf] text
        eph = params["ephemeral_message_parameters"]
        receiver = eph.get("receiver_user_id") if isinstance(eph, dict) else None
        if not isinstance(receiver, int):
            raise bad_request("can't parse ephemeral message parameters")  # [inf] text
        query_id = eph.get("callback_query_id")
        reply_to = (params.get("reply_parameters") or {}).get("ephemeral_message_id")
        if query_id is not None:
            created = self._callbacks.get(str(query_id))
            if created is None or self.clock() - created > self.callback_ttl:
                raise bad_request(QUERY_TOO_OLD)
        else:
            origin = state.ephemeral_from_users.get(reply_to) if isinstance(reply_to, int) else None
            if origin is None or origin[0] != receiver or self.clock() - origin[1] > 15.0:
                raise bad_request("message to be replied not found")
        text, entities = prepare_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        self.flood.check("message", state.chat["id"])
        ephemeral_id = state.next_ephemeral_id
        state.next_ephemeral_id += 1
        msg = StoredMessage(
            message_id=0, chat_id=int(state.chat["id"]), date=int(time.time()), from_bot=True,
            sender={**self.bot_user, "receiver": receiver}, text=text, entities=entities,
        )  # fmt: skip
        state.ephemeral.append(msg)
        data = self._message_json(msg)
        data["from"] = dict(self.bot_user)
        data["ephemeral_message_id"] = ephemeral_id
        data["receiver_user"] = {"id": receiver, "is_bot": False, "first_name": "User"}
        return data

    async def _m_edit_message_reply_markup(self, params: Json) -> Json:
        state, msg = self._bot_message(params, "edit")
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        if markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self.flood.check("message", state.chat["id"])
        msg.reply_markup, msg.edit_date = markup, int(time.time())
        return self._message_json(msg)

    async def _m_delete_message(self, params: Json) -> bool:
        state, msg = self._bot_message(params, "delete")
        self.flood.check("message", state.chat["id"])
        del state.messages[msg.message_id]
        return True

    async def _m_send_message_draft(self, params: Json) -> bool:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id < 0 or not self.drafts_enabled:
            raise bad_request("TEXTDRAFT_PEER_INVALID")
        draft_id = params.get("draft_id")
        if not isinstance(draft_id, int) or isinstance(draft_id, bool) or draft_id == 0:
            raise bad_request("RANDOM_ID_INVALID")
        state = self._target_chat(params)
        text, entities = prepare_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"), allow_empty=True
        )
        self.flood.check("typing", chat_id)
        thread = params.get("message_thread_id")
        old = state.drafts.get((thread, draft_id))
        state.drafts[(thread, draft_id)] = Draft(
            chat_id, draft_id, thread, text, entities, params.get("can_stop") is True,
            params.get("keep_on_stop") is True, self.clock(), (old.updates + 1) if old else 1,
        )  # fmt: skip
        return True

    async def _m_send_chat_action(self, params: Json) -> bool:
        state = self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.flood.check("typing", state.chat["id"])
        state.actions.append(str(params["action"]))
        return True

    # ---------------------------------------------------------------- topics
    def _topic_chat(self, params: Json) -> ChatState:
        state = self._target_chat(params)
        if state.chat["type"] == "private" and not self.bot_user["has_topics_enabled"]:
            raise bad_request("the chat is not a forum")
        if state.chat["type"] != "private" and not state.chat.get("is_forum"):
            raise bad_request("the chat is not a forum")
        return state

    async def _m_create_forum_topic(self, params: Json) -> Json:
        state = self._topic_chat(params)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        self.flood.check("message", state.chat["id"])
        service = self._store(
            state, from_bot=True, sender=self.bot_user, text=None, entities=[],
            thread=None, is_topic=False, reply_to=None,
            media={"forum_topic_created": {"name": name, "icon_color": 7322096}},
        )  # fmt: skip
        thread = service.message_id
        service.message_thread_id, service.is_topic_message = thread, True
        state.topics[thread] = name
        return {"message_thread_id": thread, "name": name, "icon_color": 7322096}

    async def _m_edit_forum_topic(self, params: Json) -> bool:
        state = self._topic_chat(params)
        thread = params.get("message_thread_id")
        if not isinstance(thread, int) or thread not in state.topics:
            raise bad_request("message thread not found")
        name = params.get("name")
        if name is not None:
            if not 1 <= len(str(name)) <= 128:
                raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
            if state.topics[thread] == name:
                raise bad_request("TOPIC_NOT_MODIFIED")
            state.topics[thread] = str(name)
        return True

    def open_topic(self, chat_id: int, name: str = "New chat") -> int:
        """A topic the user opened (or Telegram opened for a message outside topics)."""
        state = self.chat(chat_id)
        thread = state.next_message_id
        state.next_message_id += 1
        state.topics[thread] = name
        return thread

    # ---------------------------------------------------------------- other methods
    async def _m_true(self, params: Json) -> bool:
        return True

    async def _m_get_me(self, params: Json) -> Json:
        return dict(self.bot_user)

    async def _m_get_updates(self, params: Json) -> list[Json]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        self.polls_started += 1
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older waiting poll is terminated with 409 Conflict
        if isinstance(params.get("allowed_updates"), list):
            self.allowed_updates = [str(u) for u in params["allowed_updates"]]
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self.pending_updates = self.pending_updates[offset:]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 50.0)
        while True:
            event = self._changed
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request;"
                    " make sure that only one bot instance is running",
                )
            self._filter_updates()
            if self.pending_updates:
                return self.pending_updates[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _filter_updates(self) -> None:
        allowed = set(self.allowed_updates or [])
        kept: list[Json] = []
        for update in self.pending_updates:
            kind = next((k for k in update if k != "update_id"), "")
            ok = kind in allowed if allowed else kind not in NOT_BY_DEFAULT
            (kept if ok else self.dropped_updates).append(update)
        self.pending_updates = kept

    async def _m_delete_webhook(self, params: Json) -> bool:
        self.webhook_url = ""
        self.webhook_secret = ""
        asyncio.get_running_loop().create_task(self._stop_webhook())
        self.webhook_secret = ""
        # Webhook mode: every POST made to the bot, (update_id, HTTP status or 0 when unreachable).
        self.webhook_posts: list[tuple[int, int]] = []
        self.webhook_retry_delay = 0.2
        self._webhook_task: asyncio.Task[None] | None = None
        if params.get("drop_pending_updates") is True:
            self.pending_updates.clear()
        return True

    async def _m_set_webhook(self, params: Json) -> bool:
        self.webhook_url = str(params.get("url") or "")
        self.webhook_secret = str(params.get("secret_token") or "")
        if isinstance(params.get("allowed_updates"), list):
            self.allowed_updates = [str(u) for u in params["allowed_updates"]]
        if params.get("drop_pending_updates") is True:
            self.pending_updates.clear()
        self._poll_generation += 1  # a waiting getUpdates ends with 409
        if self.webhook_url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        self._notify()
        return True

    async def _m_get_webhook_info(self, params: Json) -> Json:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }

    def _commands_key(self, params: Json) -> tuple[str, str]:
        return commands_key(params, lambda chat_id: chat_id in self.chats)

    async def _m_set_my_commands(self, params: Json) -> bool:
        parsed = parse_commands(params)
        key = self._commands_key(params)
        commands = check_commands(parsed)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    async def _m_delete_my_commands(self, params: Json) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _m_get_my_commands(self, params: Json) -> list[Json]:
        return self.commands.get(self._commands_key(params), [])

    def commands_of(self, scope: Json, language_code: str = "") -> list[Json]:
        """The command list kept for a scope ({"type": "all_group_chats"}, ...) and language."""
        return self.commands.get((json.dumps(scope, sort_keys=True), language_code), [])

    async def _m_answer_callback_query(self, params: Json) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        created = self._callbacks.get(query_id)
        if created is None or query_id in self.callback_answers:
            raise bad_request(QUERY_TOO_OLD)
        if self.clock() - created > self.callback_ttl:
            raise bad_request(QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    async def _m_get_chat(self, params: Json) -> Json:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise bad_request("chat not found")
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
             "gifts_from_channels"), False,
        )  # fmt: skip
        extra = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
        return {**self.chats[chat_id].chat, **extra}

    async def _m_get_chat_member(self, params: Json) -> Json:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise bad_request("chat not found")
        if not isinstance(user_id, int) or user_id <= 0:
            raise bad_request("invalid user_id specified")
        user = {"id": user_id, "is_bot": False, "first_name": "User"}
        status = self.chats[chat_id].statuses.get(user_id, "member")
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            rights = dict.fromkeys(
                ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                 "can_restrict_members", "can_change_info", "can_invite_users", "can_post_stories",
                 "can_edit_stories", "can_delete_stories", "can_send_welcome_messages"), True,
            )  # fmt: skip
            return {
                "status": "administrator", "user": user, "can_be_edited": False,
                "is_anonymous": False, "can_promote_members": False, **rights,
            }  # fmt: skip
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": status, "user": user}


class _LocalSession(AiohttpSession):
    """aiogram's session without the 250 ms SSL grace sleep on close (plain HTTP here)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _msg_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "user_id": None, "first_name": "Test User", "username": None, "language_code": "en",
        "chat_type": None, "chat_title": None, "message_thread_id": None,
        "is_topic_message": False, "reply_to_message_id": None,
    }  # fmt: skip
    unknown = set(kw) - set(defaults)
    if unknown:
        raise TypeError(f"unexpected arguments: {sorted(unknown)}")
    return {**defaults, **kw}


def png_size(data: bytes) -> tuple[int, int] | None:
    """A PNG's width and height from its IHDR chunk; None for anything else."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _detect_entities(text: str) -> list[Json]:
    found: list[Json] = []
    for etype, regex in (("bot_command", _COMMAND_RE), ("mention", _MENTION_RE), ("url", _URL_RE)):
        for m in regex.finditer(text):
            offset = utf16_len(text[: m.start()])
            found.append({"type": etype, "offset": offset, "length": utf16_len(m.group())})
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    return found


def _check_markup(markup: Any, *, inline_only: bool) -> Json | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        if inline_only or not {"keyboard", "remove_keyboard", "force_reply"} & set(markup):
            raise bad_request("can't parse inline keyboard markup JSON object")
        return markup
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("can't parse inline keyboard button: must be an Object")
    for button in (b for r in rows for b in r):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    return markup if any(rows) else None


def _upload(key: str, value: Any) -> Json:
    """A multipart file: its name, type and bytes (Telegram takes up to 50 MB from a bot)."""
    content = value.file.read() if hasattr(value, "file") else bytes(value)
    if len(content) > UPLOAD_LIMIT:
        raise ApiError(413, "Request Entity Too Large")
    return {
        "file": getattr(value, "filename", key),
        "mime_type": getattr(value, "content_type", "application/octet-stream"),
        "content": content,
        "data": content,  # the name sendPhoto reads
    }


async def _read_params(request: web.Request) -> Json:
    raw: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON body") from exc
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            raw.update(body)
        else:
            for key, value in (await request.post()).items():
                raw[key] = value if isinstance(value, str) else _upload(key, value)
    params: Json = {}
    for key, value in raw.items():
        if isinstance(value, str) and key not in STR_FIELDS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return params
