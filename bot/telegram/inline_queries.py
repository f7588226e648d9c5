"""Inline queries: each is answered at once with one result, never with a model call. A question
becomes a pending question (by result id, in the store) that the user's choice starts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiogram.types import (
    InlineQueryResultArticle,
    InputTextMessageContent,
)

from bot.core.access import Verdict
from bot.core.bounded import Recent
from bot.core.inline import QUERY_LIMIT, InlinePending, PendingQuestion, check_query, new_result_id
from bot.core.model_choice import ModelResolver
from bot.telegram.admission import Admission
from bot.telegram.inline_answers import AnswerButton, button
from bot.telegram.texts import Lang, t
from bot.telegram.turn import denial_text

log = logging.getLogger(__name__)

CACHE_TIME = 5  # seconds Telegram may show this user the same results again
TITLE_QUESTION = 120  # characters of the question shown in the result's title
VERDICT_SECONDS = 5.0  # a user's gate verdict serves the queries typed this long after it


class InlineQueries:
    """Builds the one result of a typed query: the question to pick, a hint, or why not."""

    def __init__(
        self,
        admission: Admission,
        pending: InlinePending,
        models: ModelResolver,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._admission, self._pending, self._models = admission, pending, models
        self._clock = clock
        # Telegram sends a query at every pause while the user types: the gate (which counts
        # flood control) is asked once per VERDICT_SECONDS, not once per pause.
        self._verdicts: Recent[int, tuple[float, Verdict]] = Recent()

    async def result(self, user_id: int, text: str, lang: Lang) -> InlineQueryResultArticle:
        """The result to show for `text` typed by `user_id`."""
        check = check_query(text)
        if check == "empty":
            return _note("hint", t("inline_hint_title", lang), t("inline_hint", lang))
        if check == "too_long":
            note = t("inline_too_long", lang, limit=QUERY_LIMIT)
            return _note("long", t("inline_too_long_title", lang), note)
        verdict = await self._verdict(user_id)
        if verdict.denial is not None:
            reason = denial_text(verdict.denial, lang)
            return _note("refused", t("inline_refused_title", lang), reason)
        question = text.strip()
        result_id = new_result_id()
        await self._pending.put(result_id, PendingQuestion(user_id, question, lang, verdict.limits))
        model = (await self._models.resolve(user_id)).model
        shown = question if len(question) <= TITLE_QUESTION else question[:TITLE_QUESTION] + "…"
        return InlineQueryResultArticle(
            id=result_id,
            title=t("inline_ask_title", lang, model=model, question=shown),
            description=t("inline_ask_description", lang),
            input_message_content=InputTextMessageContent(
                message_text=t("inline_placeholder_question", lang, question=question)
            ),
            reply_markup=button(t("inline_answer_button", lang), AnswerButton(result=result_id)),
        )

    async def _verdict(self, user_id: int) -> Verdict:
        now = self._clock()
        known = self._verdicts.get(user_id)
        if known is not None and now - known[0] < VERDICT_SECONDS:
            return known[1]
        verdict = await self._admission.judge_inline(user_id)
        self._verdicts[user_id] = (now, verdict)
        return verdict


def _note(kind: str, title: str, text: str) -> InlineQueryResultArticle:
    """A result that only tells something (picking it posts the same words)."""
    return InlineQueryResultArticle(
        id=kind,
        title=title,
        description=text[:200],
        input_message_content=InputTextMessageContent(message_text=text),
    )
