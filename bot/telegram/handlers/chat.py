"""Chat: text and rich messages, files and photos (a coalesced turn arrives as `batch`), and
what is answered without the model (stickers, voice notes, ...)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot, Router
from aiogram.types import Message, User

from bot.core.coalesce import Batch
from bot.core.inputs import QUICK_TEXT_KEYS
from bot.core.speakers import group_message, private_message
from bot.telegram.addressing import called_rich, called_text, quoted, rich_text_of
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.filters import Carries, ChatType
from bot.telegram.input_kinds import KINDS, InputKind, carried_fields, media_of
from bot.telegram.input_turns import InputTurns
from bot.telegram.inputs import part_of, quick_kind
from bot.telegram.notices import Notices
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn

PRIVATE = ChatType("private")
GROUP = ChatType("group", "supergroup")


def overheard(message: Message) -> bool:
    """A person's own words, fit to keep as group context: not a bot's, not a command, not a
    channel post forwarded into the group."""
    author = message.from_user
    if author is None or author.is_bot or message.is_automatic_forward:
        return False
    return not any(e.type == "bot_command" and e.offset == 0 for e in message.entities or ())


def _speaker(message: Message) -> str:
    return message.from_user.full_name if message.from_user else "?"


def messages_of(message: Message, batch: Batch[Message] | None) -> list[Message]:
    """The messages of the turn `message` opens: the coalesced ones, or just itself."""
    if batch is None:
        return [message]
    return [part.payload for part in batch.parts if part.payload is not None]


def text_of(message: Message, batch: Batch[Message] | None) -> str:
    """The turn's words: every part's text or caption (forwards with their origin line)."""
    return batch.text if batch is not None else (message.text or message.caption or "")


def called_in(messages: Sequence[Message], me: User) -> str | None:
    """The question of a turn that calls the bot in any of its parts (a mention in the first
    part of a paste, a caption); None when no part calls it."""
    found = [called_text(m, me) for m in messages]
    if all(question is None for question in found):
        return None
    texts = [part_of(m).text if q is None else q for m, q in zip(messages, found, strict=True)]
    return "\n".join(text for text in texts if text)


async def on_text(
    message: Message,
    turn: Turn,
    answering: Answering,
    inputs: InputTurns,
    bot: Bot,
    batch: Batch[Message] | None = None,
) -> None:
    """A private message: text, a split paste, a forward and its question, files, photos."""
    text = text_of(message, batch)
    quote = quoted(message, await bot.me())
    question = private_message(text, quote[1] if quote else None)
    messages = messages_of(message, batch)
    if media_of(messages):
        await inputs.answer(turn, messages, question, text)
        return
    await answering.answer(turn, question, text)


async def on_group_text(
    message: Message,
    turn: Turn,
    lang: Lang,
    answering: Answering,
    admission: Admission,
    notices: Notices,
    inputs: InputTurns,
    bot: Bot,
    batch: Batch[Message] | None = None,
) -> None:
    me = await bot.me()
    messages = messages_of(message, batch)
    media = media_of(messages)
    question = called_in(messages, me)
    if question is None:
        if overheard(message) and not media:
            await admission.overhear(turn, _speaker(message), text_of(message, batch))
        return
    quote = quoted(message, me)
    if not question and quote is None and not media:
        await notices.notify(turn, t("ask_hint", lang, username=me.username or ""))
        return
    content = group_message(_speaker(message), question, quote)
    if media:
        await inputs.answer(turn, messages, content if question or quote else "", question)
        return
    await answering.answer(turn, content)


async def on_rich(message: Message, turn: Turn, answering: Answering, bot: Bot) -> None:
    text = rich_text_of(message)
    quote = quoted(message, await bot.me())
    await answering.answer(turn, private_message(text, quote[1] if quote else None), text)


async def on_group_rich(message: Message, turn: Turn, answering: Answering, bot: Bot) -> None:
    question = called_rich(message, await bot.me())
    if question:
        await answering.answer(turn, group_message(_speaker(message), question))


async def on_unsupported(message: Message, turn: Turn, admission: Admission) -> None:
    """A sticker, location, poll, a voice note while voice is off...: one short text per kind,
    no upstream call."""
    kind = quick_kind(message)
    await admission.unsupported(turn, QUICK_TEXT_KEYS[kind] if kind else "only_text")


async def on_group_unsupported(
    message: Message, turn: Turn, admission: Admission, bot: Bot
) -> None:
    """The same in a group, when it replies to the bot."""
    if quick_kind(message) is not None and called_text(message, await bot.me()) is not None:
        await on_unsupported(message, turn, admission)


def router(kinds: Sequence[InputKind] = KINDS) -> Router:
    """`kinds`: the input kinds the bot reads besides text (the others answer in one text)."""
    chat = Router(name="chat")
    content = Carries("text", *carried_fields(kinds))
    chat.message.register(on_text, PRIVATE, content)
    chat.message.register(on_group_text, GROUP, content)
    chat.message.register(on_rich, PRIVATE, Carries("rich_message"))
    chat.message.register(on_group_rich, GROUP, Carries("rich_message"))
    chat.message.register(on_unsupported, PRIVATE)
    chat.message.register(on_group_unsupported, GROUP)
    return chat
