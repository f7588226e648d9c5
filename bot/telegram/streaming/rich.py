"""Whether this process sends Telegram rich messages and rich drafts; how Telegram refuses them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Descriptions that mean "this content was refused" (a resend as text will do), not "no such method".
_CONTENT_REJECTIONS = ("rich_message_", "can't parse rich", "failed to parse rich", "can't parse")


class RichRefused(Exception):
    """Telegram refused this rich content (RICH_MESSAGE_*, can't parse): send it as text instead."""


class RichUnavailable(Exception):
    """The Bot API server has no rich methods (404 method not found): rich is off for good."""


def is_content_rejection(description: str) -> bool:
    text = description.lower()
    return any(marker in text for marker in _CONTENT_REJECTIONS)


@dataclass(slots=True)
class RichSwitch:
    """Process-wide: configured on or off, and latched off once the server lacks the methods."""

    messages: bool
    drafts: bool

    @property
    def use_drafts(self) -> bool:
        return self.messages and self.drafts

    def off(self, reason: str) -> None:
        if not self.messages and not self.drafts:
            return
        self.messages = self.drafts = False
        log.warning("rich messages switched off for this process reason=%s", reason)
