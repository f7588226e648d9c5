"""/export: the chat's (topic's) conversation as a Markdown file, in the user's language."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message

from bot.core.conversation import ConversationService
from bot.core.export import ExportLabels, export_markdown
from bot.core.models import ChatKey
from bot.telegram.notices import Notices
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn


def labels(lang: Lang) -> ExportLabels:
    return ExportLabels(
        title=t("export_title", lang),
        user=t("export_user", lang),
        assistant=t("export_assistant", lang),
        tool=t("export_tool", lang),
        empty=t("export_empty", lang),
    )


async def cmd_export(
    message: Message,
    turn: Turn,
    lang: Lang,
    service: ConversationService,
    notices: Notices,
    bot: Bot,
) -> None:
    history = await service.history(ChatKey(turn.chat_id, turn.thread_id))
    document = export_markdown(history, labels(lang)).encode()
    upload = BufferedInputFile(document, filename=t("export_file_name", lang) + ".md")
    try:
        await bot.send_document(
            turn.chat_id,
            upload,
            message_thread_id=turn.thread_id,
            caption=t("export_caption", lang),
        )
    except TelegramAPIError:
        await notices.notify(turn, t("export_failed", lang))


def router() -> Router:
    export = Router(name="export")
    export.message.register(cmd_export, Command("export"))
    return export
