"""ToolRounds: the round cap, the messages kept for history and the next request, rejections."""

from __future__ import annotations

from bot.core.models import ToolCall
from bot.core.tool_rounds import ToolRounds, rejects_tools
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import keep_tool_pairs
from bot.telegram.texts import t
from tests.tools.test_tool_runner import SleepTool


async def test_rounds_up_to_the_cap_then_answer_in_words() -> None:
    rounds = ToolRounds(ToolRunner(ToolLimits(timeout=5)), {"sleep": SleepTool()}, 2, t, "ru")
    assert (
        rounds.tools_param() is not None and rounds.tools_param()[0]["function"]["name"] == "sleep"
    )
    call = ToolCall("a", "sleep", '{"seconds": 0, "text": "one"}')
    assert rounds.status_lines([call]) == ["🛠 sleep 0…"]
    new = await rounds.run_round("Let me check.", [call])
    assert [m.role for m in new] == ["assistant", "tool"]
    assert new[0].content == "Let me check." and new[0].tool_calls == (call,)
    assert new[1].content == "one" and new[1].tool_call_id == "a"
    assert rounds.can_continue()
    await rounds.run_round("", [ToolCall("b", "sleep", '{"seconds": 0}')])
    assert rounds.tools_param() is None  # the cap: the next request goes without tools
    assert rounds.can_continue()  # a model ignoring that still gets an answer for its calls
    refused = await rounds.run_round("", [ToolCall("c", "sleep", '{"seconds": 0}')])
    assert "limit of 2 tool rounds" in refused[1].content
    assert not rounds.can_continue()
    assert rounds.rounds == 3 and len(rounds.results) == 3 and len(rounds.overhead) == 3
    payload = rounds.payload()
    assert [m["role"] for m in payload] == ["assistant", "tool"] * 3
    assert payload[1] == {"role": "tool", "content": "one", "tool_call_id": "a"}
    assert keep_tool_pairs(rounds.messages) == rounds.messages


async def test_no_tools_no_rounds() -> None:
    rounds = ToolRounds(ToolRunner(ToolLimits()), {}, 4, t)
    assert rounds.tools_param() is None and not rounds.can_continue()


def test_rejections_of_tools_recognised() -> None:
    assert rejects_tools(
        400, {"detail": "feature tools is currently rejected by the Gonka network"}
    )
    assert rejects_tools(400, {"error": {"message": "litellm.BadRequestError: OpenAIException - "
                                         "Unrecognized request argument supplied: tools"}})  # fmt: skip
    assert rejects_tools(400, {"object": "error", "message": '"auto" tool choice requires '
                               "--enable-auto-tool-choice and --tool-call-parser to be set"})  # fmt: skip
    assert rejects_tools(422, "Extra inputs are not permitted: body.tools")
    assert not rejects_tools(400, {"detail": "max_tokens must be at least 1"})
    assert not rejects_tools(500, {"detail": "feature tools is currently rejected"})
