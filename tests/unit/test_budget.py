"""Token estimation and trimming.

How the estimate was checked: tests/doubles/qwen_tokens.py loads the real Qwen BPE vocabulary
(shipped in the `dashscope` package) with tiktoken, the same tokenizer family the Gonka models use,
and counts the ChatML prompt exactly as the upstream reports `prompt_tokens` (the fake Gonka server
reports that very count). The estimate must never fall more than 10% below it.
"""

from __future__ import annotations

import pytest

from bot.core.budget import PROMPT_OVERHEAD, estimate_tokens, fit_history, message_tokens
from bot.core.errors import ContextTooLong
from bot.core.models import ChatMessage
from tests.doubles.qwen_tokens import count_chat, count_text

SAMPLES = {
    "en_prose": (
        "The quick brown fox jumps over the lazy dog. Blockchain is a distributed ledger: "
        "every node keeps a copy, and new blocks are appended after consensus."
    ),
    "en_question": "Hello! Could you explain how decentralized inference works, in simple words?",
    "en_code": "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nprint(fib(10))",
    "en_numbers": "In 2024 there were 1,234,567 requests; 98.6% succeeded within 250 ms.",
    "ru_prose": (
        "Съешь же ещё этих мягких французских булок, да выпей чаю. Блокчейн — это распределённый "
        "реестр: каждый узел хранит копию, а новые блоки добавляются после консенсуса."
    ),
    "ru_question": "Привет! Как дела? Расскажи, пожалуйста, как работает сеть Gonka и сколько это стоит.",
    "ru_markdown": "## Итоги\n\n- **Цена**: $0.00123 за 1 млн токенов\n- *Скорость*: около 50 токенов/с",
    "mixed_emoji": "Отлично 👍🎉! Great job 🚀 — давай продолжим завтра в 10:30.",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_estimate_never_undercounts_by_more_than_10_percent(name: str) -> None:
    text = SAMPLES[name]
    exact = count_text(text)
    estimate = estimate_tokens(text)
    assert estimate >= 0.9 * exact, (estimate, exact)
    assert estimate <= 1.6 * exact, (estimate, exact)  # still a useful estimate, not a blind cap


def test_prompt_estimate_against_upstream_prompt_tokens() -> None:
    system = "You are a helpful assistant."
    history = [("user", SAMPLES["ru_question"]), ("assistant", SAMPLES["ru_prose"])]
    history += [("user", SAMPLES["en_question"]), ("assistant", SAMPLES["en_prose"])]
    messages = [{"role": "system", "content": system}] + [
        {"role": role, "content": content} for role, content in history
    ]
    exact = count_chat(messages)
    estimate = (
        message_tokens("system", system)
        + sum(message_tokens(role, content) for role, content in history)  # type: ignore[arg-type]
        + PROMPT_OVERHEAD
    )
    assert estimate >= 0.9 * exact, (estimate, exact)


def _turns(count: int, tokens: int = 10) -> list[ChatMessage]:
    out: list[ChatMessage] = []
    for i in range(count):
        out += [ChatMessage("user", f"q{i}", tokens), ChatMessage("assistant", f"a{i}", tokens)]
    return out


def test_fit_keeps_newest_whole_turns() -> None:
    history = _turns(5)
    kept = fit_history(history, system_tokens=10, new_message_tokens=10, budget=100, max_tokens=20)
    # room = 100 - 20 - 10 - 3 - 10 = 57 -> 5 messages fit, the leading answer is dropped too
    assert [m.content for m in kept] == ["q3", "a3", "q4", "a4"]


def test_fit_all_when_room() -> None:
    history = _turns(2)
    assert (
        fit_history(history, system_tokens=5, new_message_tokens=5, budget=1000, max_tokens=10)
        == history
    )


def test_single_message_larger_than_budget_raises() -> None:
    with pytest.raises(ContextTooLong) as info:
        fit_history([], system_tokens=50, new_message_tokens=500, budget=300, max_tokens=100)
    assert info.value.tokens == 500
    assert info.value.limit == 300 - 100 - 50 - PROMPT_OVERHEAD
