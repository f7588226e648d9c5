"""Token estimation and fitting a conversation into the token budget."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.core.errors import ContextTooLong
from bot.core.models import ChatMessage, Role

# ChatML wraps each message as <|im_start|>role\n ... <|im_end|>\n: about 5 tokens, plus 3 for the
# assistant prefix the server appends to the prompt.
MESSAGE_OVERHEAD = 5
PROMPT_OVERHEAD = 3


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
) -> list[ChatMessage]:
    """Keep the newest whole turns so that system + history + new message + max_tokens <= budget.

    The system prompt is never dropped. Raises ContextTooLong when the new message alone does not
    fit. Uses the token counts stored with each message: nothing is re-tokenized.
    """
    available = budget - max_tokens - system_tokens - PROMPT_OVERHEAD
    if new_message_tokens > available:
        raise ContextTooLong(new_message_tokens, max(available, 0))
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
