"""Whether a group message calls the bot, and what it asks."""

from __future__ import annotations

import re

from aiogram.types import Message, User

from bot.formatting.rich_flatten import flatten_rich

_SPACES = re.compile(r"[ \t]+")


def called_text(message: Message, me: User) -> str | None:
    """The question of a message addressed to the bot, or None when the bot is not called.

    Called means: `/ask text` or `/ask@botname text`, a `mention` entity of @botname anywhere,
    a `text_mention` of the bot, or a reply to one of the bot's messages.
    """
    # A file or photo calls the bot by its caption.
    text = message.text if message.text is not None else (message.caption or "")
    entities = message.entities if message.text is not None else message.caption_entities
    username = (me.username or "").lower()
    if text.startswith("/"):
        head, _, rest = (
            text.partition(" ") if " " in text.split("\n", 1)[0] else text.partition("\n")
        )
        name, _, target = head[1:].partition("@")
        if name.lower() == "ask" and (not target or target.lower() == username):
            return rest.strip()
        return None
    called = False
    cut: list[tuple[int, int]] = []
    utf16 = text.encode("utf-16-le")
    for entity in entities or []:
        if entity.type == "mention" and entity.extract_from(text).lower() == f"@{username}":
            called = True
            cut.append((entity.offset, entity.offset + entity.length))
        elif entity.type == "text_mention" and entity.user and entity.user.id == me.id:
            called = True
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == me.id:
        called = True
    if not called:
        return None
    for start, end in sorted(cut, reverse=True):
        utf16 = utf16[: start * 2] + utf16[end * 2 :]
    cleaned = utf16.decode("utf-16-le")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in cleaned.splitlines()).strip()


def rich_text_of(message: Message) -> str:
    """The text of a received rich message (pasted formatted text), flattened for the model."""
    if message.rich_message is None:
        return ""
    blocks = [b.model_dump(mode="json", exclude_none=True) for b in message.rich_message.blocks]
    return flatten_rich(blocks)


def called_rich(message: Message, me: User) -> str | None:
    """Like `called_text` for a rich message: a reply to the bot or an @mention in its text."""
    text = rich_text_of(message)
    mention = re.compile(re.escape(f"@{me.username or ''}") + r"\b", re.IGNORECASE)
    reply = message.reply_to_message
    to_bot = reply is not None and reply.from_user is not None and reply.from_user.id == me.id
    if not (me.username and mention.search(text)) and not to_bot:
        return None
    return mention.sub("", text).strip() if me.username else text


def quoted(message: Message, me: User) -> tuple[str, str] | None:
    """(author, text) of the message this one replies to, preferring the user's own quote."""
    reply = message.reply_to_message
    if reply is None:
        return None
    text = message.quote.text if message.quote else (reply.text or reply.caption or "")
    if not text:
        return None
    author = reply.from_user
    if author is None:
        name = reply.sender_chat.title if reply.sender_chat and reply.sender_chat.title else "?"
    elif author.id == me.id:
        name = "assistant"
    else:
        name = author.full_name
    return name, text
