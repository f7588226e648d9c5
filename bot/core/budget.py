"""Token estimation and fitting a conversation into the token budget."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.core.bounded import Recent
from bot.core.errors import ContextTooLong
from bot.core.models import ChatMessage, Role

# ChatML wraps each message as <|im_start|>role\n ... <|im_end|>\n: about 5 tokens, plus 3 for the
# assistant prefix the server appends to the prompt.
MESSAGE_OVERHEAD = 5
PROMPT_OVERHEAD = 3
# An answer is stopped (as "length") past max_tokens x this many characters, whatever the
# upstream does with max_tokens: no tokenizer averages half of this on prose, code or tables.
ANSWER_CHARS_PER_TOKEN = 10


def estimate_tokens(text: str) -> int:
    """Estimate the tokens of `text` for today's large BPE vocabularies (Qwen, DeepSeek, GLM).

    Deliberately errs high: measured against the Qwen tokenizer it over-counts English by about
    10-25% and Russian by about 5-20% (tests/unit/test_budget.py), so budgets are never overrun.
    """
    latin = cyrillic = digits = spaces = other = wide = 0
    for ch in text:
        if ch.isascii():
            if ch.isalpha():
                latin += 1
            elif ch.isdigit():
                digits += 1
            elif ch.isspace():
                spaces += 1
            else:
                other += 1
        elif "\u0400" <= ch <= "\u04ff":
            cyrillic += 1
        elif ch.isspace():
            spaces += 1
        elif ch.isalpha() and ord(ch) < 0x2E80:
            latin += 1
        else:
            wide += 1
    estimate = latin / 3.6 + cyrillic / 2.1 + digits + other + spaces * 0.1 + wide * 1.5
    return math.ceil(estimate)


def message_tokens(role: Role, content: str) -> int:
    """Estimated prompt tokens one message adds, template overhead included."""
    return estimate_tokens(content) + MESSAGE_OVERHEAD


def fit_history(
    history: Sequence[ChatMessage],
    *,
    system_tokens: int,
    new_message_tokens: int,
    budget: int,
    max_tokens: int,
    ratio: float = 1.0,
) -> list[ChatMessage]:
    """Keep the newest whole turns so that system + history + new message + max_tokens <= budget.

    The system prompt is never dropped. Raises ContextTooLong when the new message alone does not
    fit. Uses the token counts stored with each message: nothing is re-tokenized. `ratio` is the
    upstream's real prompt tokens per estimated token (TokenCalibration).
    """
    # The upstream counts `ratio` real tokens per stored one: the room is scaled, not the history.
    available = math.floor((budget - max_tokens) / ratio) - system_tokens - PROMPT_OVERHEAD
    if new_message_tokens > available:
        limit = math.floor(max(available, 0) * ratio)
        raise ContextTooLong(math.ceil(new_message_tokens * ratio), limit)
    room = available - new_message_tokens
    start = len(history)
    used = 0
    for index in range(len(history) - 1, -1, -1):
        used += history[index].tokens
        if used > room:
            break
        start = index
    kept = list(history[start:])
    # A turn starts with the user's message: never keep an answer without its question.
    while kept and kept[0].role != "user":
        kept.pop(0)
    return kept


class TokenCalibration:
    """The upstream's real prompt tokens per estimated token, learnt from each reply's usage.

    The estimate errs high on purpose (English +20%, Chinese 2.7x against the Qwen tokenizer);
    each reply's `usage.prompt_tokens` over the prompt's stored estimate is a sample. Kept per
    model (tokenizers differ) and chat (languages differ: a model-wide ratio learnt on Chinese
    would overrun an English chat), as a running mean, in memory for the newest `size` chats.
    A chat not seen yet uses 1.0, the estimate itself. A small margin keeps trimming on the
    safe side of the real context.
    """

    WEIGHT = 0.5  # of the newest sample: consecutive prompts share most of their history
    MARGIN = 1.05
    LOWEST, HIGHEST = 0.2, 3.0

    def __init__(self, size: int = 10_000) -> None:
        self._ratios: Recent[tuple[str, int], float] = Recent(size)

    def ratio(self, model: str, chat_id: int) -> float:
        """The factor to apply to stored estimates of `chat_id`'s prompts for `model`."""
        learnt = self._ratios.get((model, chat_id))
        if learnt is None:
            return 1.0
        return min(self.HIGHEST, max(self.LOWEST, learnt * self.MARGIN))

    def observe(self, model: str, chat_id: int, estimate: int, real: int) -> None:
        """A reply's real prompt tokens against the estimate the prompt was built with."""
        if estimate <= 0 or real <= 0:
            return
        key = (model, chat_id)
        sample = real / estimate
        old = self._ratios.get(key)
        self._ratios[key] = sample if old is None else old + self.WEIGHT * (sample - old)
