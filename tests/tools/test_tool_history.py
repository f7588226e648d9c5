"""History rules for tool exchanges, truncation, and the per-chat tool registry."""

from __future__ import annotations

import random

from bot.core.budget import estimate_tokens, fit_history
from bot.core.models import ChatMessage, ToolCall
from bot.core.tools import (
    ALL_TOOLS,
    MemoryToolSwitches,
    ToolRegistry,
    fit_tokens,
    keep_tool_pairs,
    tool_call_message,
    tool_specs,
)
from tests.tools.test_tool_runner import SleepTool


def _user(text: str) -> ChatMessage:
    return ChatMessage("user", text, 10)


def _calls(*ids: str) -> ChatMessage:
    return tool_call_message("", [ToolCall(i, "get_time", "{}") for i in ids])


def _result(call_id: str) -> ChatMessage:
    return ChatMessage("tool", f"result {call_id}", 10, tool_call_id=call_id)


def _answer(text: str) -> ChatMessage:
    return ChatMessage("assistant", text, 10)


def test_complete_exchanges_are_kept() -> None:
    history = [_user("q"), _calls("a", "b"), _result("a"), _result("b"), _answer("A")]
    assert keep_tool_pairs(history) == history


def test_orphans_and_unanswered_calls_are_dropped() -> None:
    history = [
        _result("x"),  # its call was trimmed away
        _user("q1"),
        _calls("a", "b"),
        _result("a"),  # b never answered (Stop during the round)
        _user("q2"),
        _calls("c"),
        _result("c"),
        _result("zzz"),  # answers no call of this message
        _answer("A2"),
        _calls("d"),  # last round cut off
    ]
    kept = keep_tool_pairs(history)
    assert [m.content or m.tool_calls[0].id for m in kept] == [
        "q1",
        "q2",
        "c",
        "result c",
        "A2",
    ]


def test_fit_history_then_pairs_never_splits_a_call_from_its_results() -> None:
    rng = random.Random(15)
    history: list[ChatMessage] = []
    for turn in range(30):
        history.append(_user(f"q{turn}"))
        for round_ in range(rng.randint(0, 2)):
            ids = [f"{turn}-{round_}-{i}" for i in range(rng.randint(1, 3))]
            history.append(_calls(*ids))
            history.extend(_result(i) for i in ids)
        history.append(_answer(f"a{turn}"))
    for budget in range(600, 2000, 37):
        kept = keep_tool_pairs(
            fit_history(
                history, system_tokens=20, new_message_tokens=10, budget=budget, max_tokens=100
            )
        )
        open_ids: set[str] = set()
        for message in kept:
            if message.tool_calls:
                assert not open_ids
                open_ids = {c.id for c in message.tool_calls}
            elif message.role == "tool":
                assert message.tool_call_id in open_ids
                open_ids.discard(message.tool_call_id)
            else:
                assert not open_ids
        assert not open_ids
        assert kept and kept[0].role == "user"


def test_tool_call_message_counts_its_calls() -> None:
    plain = tool_call_message("", [])
    message = tool_call_message(
        "Let me look.", [ToolCall("c", "get_weather", '{"location": "Berlin"}')]
    )
    assert message.role == "assistant" and message.tool_calls[0].id == "c"
    assert message.tokens > plain.tokens + estimate_tokens("Let me look.")


def test_truncate_keeps_short_text_and_cuts_long_text() -> None:
    assert fit_tokens("short", 10)[0] == "short"
    cut = fit_tokens("Привет мир. " * 2000, 50)[0]
    assert estimate_tokens(cut) <= 50 and cut.startswith("Привет")
    assert fit_tokens("x" * 1000, 0)[0].startswith("\n[…truncated: 0 of 1000")
    spaces = " " * 5000 + "tail"  # 0.1 token a space: fits, window and all
    assert fit_tokens(spaces, 600)[0] == spaces
    huge = "word " * 400_000  # 2 MB: only a window is estimated
    cut, tokens = fit_tokens(huge, 1500)
    assert tokens == estimate_tokens(cut) <= 1500 and cut.endswith(
        f"of {len(huge)} characters shown]"
    )


async def test_registry_per_chat_switches() -> None:
    switches = MemoryToolSwitches()
    registry = ToolRegistry([SleepTool("a"), SleepTool("b")], switches)
    assert list(await registry.for_chat(1)) == ["a", "b"]
    assert await registry.switch(1, on=False, name="a")
    assert list(await registry.for_chat(1)) == ["b"]
    assert list(await registry.for_chat(2)) == ["a", "b"]
    assert await registry.switch(1, on=False)
    assert await registry.for_chat(1) == {}
    assert await switches.switched_off(1) == {ALL_TOOLS}
    assert await registry.switch(1, on=True, name="b")
    assert list(await registry.for_chat(1)) == ["b"]
    assert await registry.switch(1, on=True)
    assert list(await registry.for_chat(1)) == ["a", "b"]
    assert switches.off == {}
    assert not await registry.switch(1, on=False, name="teleport")
    assert await ToolRegistry([]).for_chat(1) == {}
    specs = tool_specs(await registry.for_chat(1))
    assert specs[0] == {
        "type": "function",
        "function": {
            "name": "a",
            "description": "Sleep then answer",
            "parameters": SleepTool().spec.parameters,
        },
    }
