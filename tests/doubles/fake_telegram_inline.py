"""Inline mode in the fake Telegram: inline queries and their answers, the user's choice (a
message sent "via" the bot, with an inline_message_id only when the result has an inline
keyboard), chosen_inline_result (only with inline feedback on), presses on an inline message's
buttons, and editMessageText by inline_message_id with Telegram's limits and errors.

Mixed into FakeTelegramServer, which provides the attributes declared below."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.doubles.fake_telegram_limits import ApiError, FloodController, bad_request, prepare_text

Json = dict[str, Any]
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
INLINE_QUERY_TTL = 10.0  # Telegram waits about 10 s for answerInlineQuery
MAX_RESULTS = 50
# Flood control keys inline messages apart from chats: far below any real group id.
_INLINE_FLOOD_BASE = -(10**15)


@dataclass
class InlineMessage:
    """A message a user sent via the bot; the bot edits it by its inline_message_id."""

    inline_message_id: str
    chat_id: int
    message_id: int
    flood_key: int


class InlineMode:
    bot_user: Json
    clock: Callable[[], float]
    flood: FloodController
    _callbacks: dict[str, float]
    _query_ids: itertools.count[int]
    chat: Callable[..., Any]
    _store: Callable[..., Any]
    _user: Callable[..., Json]
    raw_update: Callable[..., Any]

    inline_feedback = True  # BotFather's /setinlinefeedback: chosen_inline_result is sent
    _inline_ids = itertools.count(1)

    def _inline_init(self) -> None:
        self.inline_queries: dict[str, tuple[Json, float]] = {}
        self.inline_answers: dict[str, Json] = {}
        self.inline_messages: dict[str, InlineMessage] = {}

    # ---------------------------------------------------------------- what users do
    async def send_inline_query(
        self, user_id: int, query: str, *, language_code: str | None = "en"
    ) -> str:
        """The user types `@bot query` and pauses: an inline_query update; its id."""
        query_id = str(next(self._query_ids))
        sender = self._user(user_id, "Test User", None, language_code)
        update = {"id": query_id, "from": sender, "query": query, "offset": ""}
        self.inline_queries[query_id] = (update, self.clock())
        await self.raw_update({"inline_query": update})
        return query_id

    async def choose_inline_result(self, query_id: str, result_id: str, chat_id: int) -> str | None:
        """The user picks a result: it is sent to `chat_id` via the bot; the inline_message_id
        (None without an inline keyboard). chosen_inline_result follows with feedback on."""
        answer = self.inline_answers[query_id]
        result = next(r for r in answer["results"] if r["id"] == result_id)
        content = result["input_message_content"]
        state = self.chat(chat_id)
        markup = result.get("reply_markup")
        query, _ = self.inline_queries[query_id]
        msg = self._store(
            state, from_bot=False, sender=query["from"], text=content["message_text"],
            entities=[], thread=None, is_topic=False, reply_to=None, reply_markup=markup,
        )  # fmt: skip
        inline_id = None
        if markup and markup.get("inline_keyboard"):
            number = next(self._inline_ids)
            inline_id = f"AQAAA{number:08d}inl"
            self.inline_messages[inline_id] = InlineMessage(
                inline_id, chat_id, msg.message_id, _INLINE_FLOOD_BASE - number
            )
        if self.inline_feedback:
            chosen: Json = {"result_id": result_id, "from": query["from"], "query": query["query"]}
            if inline_id is not None:
                chosen["inline_message_id"] = inline_id
            await self.raw_update({"chosen_inline_result": chosen})
        return inline_id

    async def press_inline_button(
        self, inline_message_id: str, data: str, user_id: int, *, check_button: bool = True
    ) -> str:
        """A user presses a button of a message sent via the bot: a callback_query with its
        inline_message_id and no message; the query id."""
        found = self.inline_messages[inline_message_id]
        msg = self.chat(found.chat_id).messages[found.message_id]
        rows = (msg.reply_markup or {}).get("inline_keyboard", [])
        if check_button and not any(b.get("callback_data") == data for r in rows for b in r):
            raise ValueError(f"inline message {inline_message_id} has no button {data!r}")
        query_id = str(next(self._query_ids))
        self._callbacks[query_id] = self.clock()
        query: Json = {
            "id": query_id, "from": self._user(user_id, "Test User", None, "en"),
            "inline_message_id": inline_message_id, "chat_instance": "-7701", "data": data,
        }  # fmt: skip
        await self.raw_update({"callback_query": query})
        return query_id

    def inline_text(self, inline_message_id: str) -> str | None:
        found = self.inline_messages[inline_message_id]
        text: str | None = self.chat(found.chat_id).messages[found.message_id].text
        return text

    def inline_message(self, inline_message_id: str) -> Any:
        found = self.inline_messages[inline_message_id]
        return self.chat(found.chat_id).messages[found.message_id]

    # ---------------------------------------------------------------- Bot API methods
    async def _m_answer_inline_query(self, params: Json) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if not query_id.isdigit():
            raise bad_request("QUERY_ID_INVALID")
        asked = self.inline_queries.get(query_id)
        if asked is None or query_id in self.inline_answers:
            raise bad_request(QUERY_TOO_OLD)
        if self.clock() - asked[1] > INLINE_QUERY_TTL:
            raise bad_request(QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._check_result(result, seen)
        self.inline_answers[query_id] = params
        return True

    def _check_result(self, result: Any, seen: set[str]) -> None:
        if not isinstance(result, dict) or result.get("type") != "article":
            raise bad_request("RESULT_TYPE_INVALID")
        result_id = str(result.get("id") or "")
        if not 1 <= len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if not result.get("title"):
            raise bad_request("RESULT_TITLE_EMPTY")
        content = result.get("input_message_content") or {}
        text = content.get("message_text")
        if not text:
            raise bad_request("MESSAGE_EMPTY")
        if len(str(text)) > 4096:
            raise bad_request("MESSAGE_TOO_LONG")
        from tests.doubles.fake_telegram import _check_markup

        _check_markup(result.get("reply_markup"), inline_only=True)

    async def _edit_inline(self, params: Json) -> bool:
        found = self.inline_messages.get(str(params.get("inline_message_id")))
        if found is None:
            raise bad_request("MESSAGE_ID_INVALID")
        msg = self.chat(found.chat_id).messages[found.message_id]
        text, entities = prepare_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        from tests.doubles.fake_telegram import _check_markup

        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are"
                " exactly the same as a current content and reply markup of the message"
            )
        self.flood.check("message", found.flood_key)  # an inline message is paced like a group
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        msg.edit_date, msg.edits = int(time.time()), msg.edits + 1
        return True


def forbidden_to_start() -> ApiError:
    return ApiError(403, "Forbidden: bot can't initiate conversation with a user")
