"""The fake Bot API's rich messages and rich drafts, driven by a real aiogram Bot."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramNotFound, TelegramRetryAfter
from aiogram.types import InputRichMessage

from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.fake_telegram_rich import live_tags

PRIVATE = 4242
GROUP = -1001234567890


async def test_rich_message_is_stored_with_its_markdown(tg: FakeTelegramServer, bot: Bot) -> None:
    markdown = "# Title\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n```python\nprint(1)\n```"
    sent = await bot.send_rich_message(PRIVATE, InputRichMessage(markdown=markdown))
    assert sent.rich_message is not None and sent.text is None
    assert [b.type for b in sent.rich_message.blocks] == ["paragraph", "paragraph", "pre"]
    stored = tg.bot_messages(PRIVATE)[-1]
    assert stored.rich_markdown == markdown and stored.text is None


async def test_rich_rejections_use_telegram_texts(bot: Bot) -> None:
    cases = {
        "x" * 32769: "RICH_MESSAGE_TEXT_TOO_LONG",
        "key openai:user@example.com here": "RICH_MESSAGE_EMAIL_INVALID",
        "<tg-thinking>hm</tg-thinking>": "can't parse rich message",
    }
    for markdown, error in cases.items():
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.send_rich_message(PRIVATE, InputRichMessage(markdown=markdown))
    skipped = InputRichMessage(markdown="openai:user@example.com", skip_entity_detection=True)
    assert await bot.send_rich_message(PRIVATE, skipped)


async def test_text_message_edited_into_rich_and_back(tg: FakeTelegramServer, bot: Bot) -> None:
    placeholder = await bot.send_message(GROUP, "…")
    rich = InputRichMessage(markdown="**done** $x^2$")
    await bot.edit_message_text(chat_id=GROUP, message_id=placeholder.message_id, rich_message=rich)
    stored = tg.bot_messages(GROUP)[-1]
    assert stored.rich_markdown == "**done** $x^2$" and stored.text is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            chat_id=GROUP, message_id=placeholder.message_id, rich_message=rich
        )


async def test_rich_drafts_private_only_and_share_the_typing_limit(
    tg: FakeTelegramServer, bot: Bot
) -> None:
    rich = InputRichMessage(markdown="<tg-thinking>Thinking…</tg-thinking>")
    with pytest.raises(TelegramBadRequest, match="TEXTDRAFT_PEER_INVALID"):
        await bot.send_rich_message_draft(chat_id=GROUP, draft_id=7, rich_message=rich)
    for _ in range(10):
        await bot.send_chat_action(PRIVATE, "typing")
    for _ in range(10):
        await bot.send_rich_message_draft(chat_id=PRIVATE, draft_id=7, rich_message=rich)
    draft = tg.draft(PRIVATE, 7)
    assert draft is not None and draft.rich_markdown == rich.markdown and draft.updates == 10
    with pytest.raises(TelegramRetryAfter):
        await bot.send_rich_message_draft(chat_id=PRIVATE, draft_id=7, rich_message=rich)


async def test_server_without_rich_methods() -> None:
    async with FakeTelegramServer(rich_methods=False) as tg:
        bot = tg.make_bot()
        try:
            with pytest.raises(TelegramNotFound, match="method not found"):
                await bot.send_rich_message(PRIVATE, InputRichMessage(markdown="hi"))
            sent = await bot.send_message(PRIVATE, "hi")
            with pytest.raises(TelegramBadRequest, match="message text is empty"):
                await bot.edit_message_text(
                    chat_id=PRIVATE,
                    message_id=sent.message_id,
                    rich_message=InputRichMessage(markdown="**hi**"),
                )
        finally:
            await bot.session.close()


def test_live_tags_ignore_escaped_and_code() -> None:
    assert live_tags('<tg-button type="url">x</tg-button> ![a](https://x/y.png)') == [
        "<tg-button",
        "![a](https://x/y.png)",
    ]
    assert live_tags("\\<tg-button> `<img>`\n```\n<video>\n```\n![e](tg://emoji?id=1)") == []
