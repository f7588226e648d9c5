"""The messages one answer occupies, and what each shows (no call is made twice for the same)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.formatting.render import Rendered
from bot.telegram.streaming.outbox import Outbox

Shown = tuple[Rendered, InlineKeyboardMarkup | None]


class Pages:
    """Message `index` of an answer: sent when new, edited after, sent anew if it is gone."""

    def __init__(self, outbox: Outbox, ids: tuple[int, ...] = ()) -> None:
        self._outbox = outbox
        self.ids: list[int] = list(ids or outbox.standing)  # shown again: the old answer's
        self._shown: dict[int, Shown] = {}

    async def show(
        self,
        index: int,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool,
        urgent: bool = False,
    ) -> bool:
        """Make message `index` show `content`; True when it does."""
        if index > len(self.ids):
            return False
        if index == len(self.ids):
            return await self._send(index, content, markup, final=final, urgent=urgent)
        message_id = self.ids[index]
        if self._shown.get(message_id) == (content, markup):
            return True
        outbox = self._outbox
        if await outbox.edit(message_id, content, markup, final=final, urgent=urgent):
            self._shown[message_id] = (content, markup)
            return True
        # The message cannot be edited (deleted by the user, too old): send the text anew.
        return final and await self._send(index, content, markup, final=True)

    async def _send(
        self,
        index: int,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool,
        urgent: bool = False,
    ) -> bool:
        sent = await self._outbox.send(content, markup, final=final, urgent=urgent)
        if sent is None:
            return False
        if index < len(self.ids):
            self.ids[index] = sent
        else:
            self.ids.append(sent)
        self._shown[sent] = (content, markup)
        return True

    async def show_rich(
        self, index: int, markdown: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Message `index` becomes this rich message (the streamed one is edited).

        Raises RichRefused / RichUnavailable like the outbox."""
        outbox = self._outbox
        if index < len(self.ids):
            message_id = self.ids[index]
            if await outbox.edit_rich(message_id, markdown, markup):
                self._shown.pop(message_id, None)
                return
            sent = await outbox.send_rich(markdown, markup)
            if sent is not None:
                # The streamed copy (with its Stop button) would stay behind, half-written.
                await outbox.delete(message_id)
                self.ids[index] = sent
            return
        sent = await outbox.send_rich(markdown, markup)
        if sent is not None:
            self.ids.append(sent)

    async def show_final(self, pieces: list[Rendered], markup: InlineKeyboardMarkup | None) -> None:
        """The answer's messages become `pieces`, `markup` under the last; none is left over."""
        for index, content in enumerate(pieces):
            last = index == len(pieces) - 1
            await self.show(index, content, markup if last else None, final=True)
        # Pieces only grow, so this is a safety net: no stale half-message is left behind.
        for stale in self.ids[len(pieces) :]:
            await self._outbox.edit(stale, Rendered("…"), None, final=True)

    async def delete_from(self, keep: int) -> None:
        for stale in self.ids[keep:]:
            await self._outbox.delete(stale)
        del self.ids[keep:]
