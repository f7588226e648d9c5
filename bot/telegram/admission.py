"""Admission: the gate before a turn, and group chatter kept as context when the gate lets it."""

from __future__ import annotations

import logging

from bot.core.access import Gate, Verdict
from bot.core.conversation import ConversationService
from bot.core.inputs import BurstLimiter
from bot.core.models import ChatKey
from bot.telegram.notices import Notices
from bot.telegram.texts import t
from bot.telegram.turn import Turn, denial_text

log = logging.getLogger(__name__)


class Admission:
    """Lets a turn in (access, flood, quota) or tells the user why not."""

    def __init__(
        self,
        gate: Gate,
        service: ConversationService,
        notices: Notices,
        burst: BurstLimiter | None = None,
        offer_buy: bool = False,
    ) -> None:
        self._gate = gate
        self._service = service
        self._notices = notices
        self._burst = burst
        self._offer_buy = offer_buy  # tokens are for sale: a quota refusal offers /buy

    async def admit(self, turn: Turn, unsupported: str = "") -> Verdict | None:
        """The gate before a turn (access, flood, quota); None when refused. A refused user is
        told why, once per window (the gate decides)."""
        verdict = await self._gate.admit(turn.actor, turn.chat_id, turn.private, unsupported)
        denial = verdict.denial
        if denial is None:
            return verdict
        log.info(
            "turn refused user=%s chat=%s reason=%s told=%s",
            turn.actor, turn.chat_id, denial.text_key, verdict.tell,
        )  # fmt: skip
        if verdict.tell and (not unsupported or self._burst_allows(turn, denial.text_key)):
            text = denial_text(denial, turn.lang)
            if self._offer_buy and denial.text_key in ("quota_day", "quota_month"):
                text += "\n\n" + t("buy_offer", turn.lang)
            await self._notices.notify(turn, text)
        return None

    async def judge_inline(self, user_id: int) -> Verdict:
        """The gate for a question typed in inline mode (the rules of the user's private chat):
        nothing is told here, inline mode shows a refusal as the result itself."""
        return await self._gate.admit(user_id, user_id, True)

    async def unsupported(self, turn: Turn, text_key: str) -> None:
        """Content answered without the model (a sticker, a voice note, a file type the bot
        cannot read): gated like a turn, so it counts for flood control, and its text told at
        most once per window: the gate's told-once window, and the burst limiter's per chat and
        text for everyone (the gate always tells an admin)."""
        await self.admit(turn, unsupported=text_key)

    def _burst_allows(self, turn: Turn, text_key: str) -> bool:
        key = (turn.chat_id, turn.thread_id, turn.actor, text_key)
        return self._burst is None or self._burst.allow(key)

    async def overhear(self, turn: Turn, speaker: str, text: str) -> None:
        """A group message not addressed to the bot: kept as context when the group has that on.
        Never answered, so a failure is only logged."""
        try:
            if not await self._service.keeps_context(turn.chat_id):
                return
            if await self._gate.may_be_heard(turn.actor, turn.chat_id):
                await self._service.overhear(ChatKey(turn.chat_id, turn.thread_id), speaker, text)
        except Exception as exc:  # nobody asked anything: no error message in the group
            log.warning("group message not kept chat=%s error=%s", turn.chat_id, type(exc).__name__)
