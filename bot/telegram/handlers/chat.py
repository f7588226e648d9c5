"""Chat: text and rich messages, and unsupported content."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.core.speakers import group_message, private_message
from bot.telegram.addressing import called_rich, called_text, quoted, rich_text_of
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.notices import Notices
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn

PRIVATE = F.chat.type == "private"
GROUP = F.chat.type.in_({"group", "supergroup"})


def overheard(message: Message) -> bool:
    """A person's own words, fit to keep as group context: not a bot's, not a command, not a
    channel post forwarded into the group."""
    author = message.from_user
    if author is None or author.is_bot or message.is_automatic_forward:
        return False
    return not any(e.type == "bot_command" and e.offset == 0 for e in message.entities or ())


def _speaker(message: Message) -> str:
    return message.from_user.full_name if message.from_user else "?"


async def on_text(message: Message, turn: Turn, answering: Answering, bot: Bot) -> None:
    text = message.text or ""
    quote = quoted(message, await bot.me())
    await answering.answer(turn, private_message(text, quote[1] if quote else None), text)


async def on_group_text(
    message: Message,
    turn: Turn,
    lang: Lang,
    answering: Answering,
    admission: Admission,
    notices: Notices,
    bot: Bot,
) -> None:
    me = await bot.me()
    question = called_text(message, me)
    if question is None:
        if overheard(message):
            await admission.overhear(turn, _speaker(message), message.text or "")
        return
    quote = quoted(message, me)
    if not question and quote is None:
        await notices.notify(turn, t("ask_hint", lang, username=me.username or ""))
        return
    await answering.answer(turn, group_message(_speaker(message), question, quote))


async def on_rich(message: Message, turn: Turn, answering: Answering, bot: Bot) -> None:
    text = rich_text_of(message)
    quote = quoted(message, await bot.me())
    await answering.answer(turn, private_message(text, quote[1] if quote else None), text)


async def on_group_rich(message: Message, turn: Turn, answering: Answering, bot: Bot) -> None:
    question = called_rich(message, await bot.me())
    if question:
        await answering.answer(turn, group_message(_speaker(message), question))


async def on_unsupported(message: Message, turn: Turn, admission: Admission) -> None:
    await admission.unsupported(turn, "only_text")


def router() -> Router:
    chat = Router(name="chat")
    chat.message.register(on_text, PRIVATE, F.text)
    chat.message.register(on_group_text, GROUP, F.text)
    chat.message.register(on_rich, PRIVATE, F.rich_message)
    chat.message.register(on_group_rich, GROUP, F.rich_message)
    chat.message.register(on_unsupported, PRIVATE)
    return chat
