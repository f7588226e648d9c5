"""What an update middleware's `__call__` is handed: the next step of the chain."""

from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.types import TelegramObject

Next = NextMiddlewareType[TelegramObject]
