"""ConversationService: a chat's settings and records around its turns (the system prompt, group
context, history reset, usage). A turn itself is bot.core.turns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.budget import message_tokens
from bot.core.limits import AnswerLimits
from bot.core.models import ChatKey, ChatMessage, ChatSettings, UsageTotals
from bot.core.ports import HistoryStore, PromptStore, UsageStore
from bot.core.speakers import GROUP_NOTE, group_message


@dataclass(frozen=True, slots=True)
class ConversationConfig:
    system_prompt: str
    token_budget: int
    max_tokens: int
    history_keep: int = 200
    limits: AnswerLimits = field(default_factory=AnswerLimits)


class ConversationService:
    """A chat's system prompt and group context, its history reset and its usage."""

    def __init__(
        self,
        history: HistoryStore,
        usage: UsageStore,
        config: ConversationConfig,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        prompts: PromptStore | None = None,
    ) -> None:
        self._history = history
        self._prompts = prompts
        self._usage = usage
        self._config = config
        self._clock = clock
        private = config.system_prompt
        group = f"{config.system_prompt}\n\n{GROUP_NOTE}"
        self._systems = (
            ChatMessage("system", private, message_tokens("system", private)),
            ChatMessage("system", group, message_tokens("system", group)),
        )
        self._note_tokens = self._systems[1].tokens - self._systems[0].tokens + 1

    async def system_for(
        self,
        chat: ChatKey,
        group: bool,
        mode_prompt: str | None = None,
        settings: ChatSettings | None = None,
    ) -> ChatMessage:
        """The system prompt a turn sends: the chat's own, else its mode's (`mode_prompt`), else
        the default, with the group note in a group. `settings`: the chat's, already read for
        the turn (None: its own prompt is read)."""
        if settings is not None:
            custom = settings.system
        else:
            custom = await self._prompts.system_prompt(chat.chat_id) if self._prompts else None
        if custom is None and mode_prompt is not None:
            text = f"{mode_prompt}\n\n{GROUP_NOTE}" if group else mode_prompt
            return ChatMessage("system", text, message_tokens("system", text))
        if custom is None:
            return self._systems[1 if group else 0]
        if not group:
            return custom
        # The stored count plus the group note's: nothing is re-counted on a turn.
        text = f"{custom.content}\n\n{GROUP_NOTE}"
        return ChatMessage("system", text, custom.tokens + self._note_tokens)

    async def system_prompt(self, chat_id: int) -> str | None:
        """The chat's own system prompt, or None when it uses the default."""
        custom = await self._prompts.system_prompt(chat_id) if self._prompts else None
        return custom.content if custom else None

    @property
    def default_system_prompt(self) -> str:
        return self._config.system_prompt

    async def set_system_prompt(self, chat_id: int, text: str | None) -> bool:
        """Set the chat's system prompt (None restores the default); its tokens are counted once.

        Returns False when the prompt would take more than a quarter of the token budget.
        """
        if self._prompts is None:
            return False
        if text is None:
            await self._prompts.set_system_prompt(chat_id, None)
            return True
        message = ChatMessage("system", text, message_tokens("system", text))
        if message.tokens > self._config.token_budget // 4:
            return False
        await self._prompts.set_system_prompt(chat_id, message)
        return True

    async def keeps_context(self, chat_id: int) -> bool:
        """Whether the group keeps messages not addressed to the bot as context."""
        return self._prompts is not None and await self._prompts.keeps_context(chat_id)

    async def set_keeps_context(self, chat_id: int, on: bool) -> None:
        if self._prompts is not None:
            await self._prompts.set_keeps_context(chat_id, on)

    async def overhear(self, chat: ChatKey, speaker: str, text: str) -> None:
        """A group message not addressed to the bot joins the history as context (no upstream
        call): the next question sees it, and the token budget trims it like any turn."""
        content = group_message(speaker, text)
        message = ChatMessage("user", content, message_tokens("user", content))
        await self._history.append(chat, [message], keep=self._config.history_keep)

    async def history(self, chat: ChatKey) -> list[ChatMessage]:
        """The chat's history, oldest first (for /export)."""
        return await self._history.load(chat)

    async def reset(self, chat: ChatKey) -> None:
        """Forget the chat's history."""
        await self._history.clear(chat)

    async def usage(self, user_id: int) -> UsageTotals:
        """The user's usage today, this month and all time."""
        return await self._usage.totals(user_id, self._clock())

    async def group_usage(self, group_id: int) -> UsageTotals:
        """The group's usage today, this month and all time."""
        return await self._usage.group_totals(group_id, self._clock())
