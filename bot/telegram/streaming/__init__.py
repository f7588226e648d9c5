"""One answer on screen: view.AnswerView (the core's ReplySink) streams it and delivers it, over
the answer's messages (pages.Pages), one chat's calls (outbox.Outbox) and its layout."""

from bot.telegram.streaming.layout import Layout
from bot.telegram.streaming.outbox import Outbox, Target
from bot.telegram.streaming.rich import RichSwitch
from bot.telegram.streaming.view import AnswerParts, AnswerView

__all__ = ["AnswerParts", "AnswerView", "Layout", "Outbox", "RichSwitch", "Target"]
