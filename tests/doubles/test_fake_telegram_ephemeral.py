"""The fake Bot API's ephemeral messages: who may receive them and when."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import EphemeralMessageParameters, ReplyParameters

from tests.doubles.fake_telegram import FakeTelegramServer

GROUP = -1001234567890
ALICE, BOB = 501, 502


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_ephemeral_reply_only_to_its_caller_within_15_seconds() -> None:
    clock = Clock()
    async with FakeTelegramServer(clock=clock) as tg:
        bot = tg.make_bot()
        try:
            tg.chat(GROUP)
            eph = await tg.send_ephemeral_command(GROUP, "/usage", user_id=ALICE)

            async def notice(receiver: int) -> None:
                await bot.send_message(
                    GROUP,
                    "only you",
                    reply_parameters=ReplyParameters(ephemeral_message_id=eph),
                    ephemeral_message_parameters=EphemeralMessageParameters(
                        receiver_user_id=receiver
                    ),
                )

            with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
                await notice(BOB)
            await notice(ALICE)
            [sent] = tg.ephemeral_messages(GROUP, ALICE)
            assert sent.text == "only you" and tg.bot_messages(GROUP) == []
            clock.now += 16
            with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
                await notice(ALICE)
            with pytest.raises(TelegramBadRequest, match="only to group chats"):
                await bot.send_message(
                    ALICE,
                    "dm",
                    ephemeral_message_parameters=EphemeralMessageParameters(receiver_user_id=ALICE),
                )
        finally:
            await bot.session.close()
        assert tg.internal_errors == []
