"""Tool calling end to end: the real bot, fake Gonka scripting tool calls, fake Open-Meteo."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.adapters.tools.fetch_url import FetchUrlTool
from tests.doubles.fake_gonka import Reply, ToolCall, prompt_tokens
from tests.doubles.fake_open_meteo import FakeOpenMeteo
from tests.doubles.fake_pages import PageServer
from tests.doubles.qwen_tokens import count_text
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

GROUP = -100700
ALICE, BOB = 701, 702
WEATHER = ToolCall("get_weather", {"location": "Berlin"})


@contextlib.asynccontextmanager
async def _tools_env(make_env: EnvFactory, **overrides: Any) -> AsyncIterator[Env]:
    async with FakeOpenMeteo() as meteo:
        settings: dict[str, Any] = {
            "tools": "get_weather,get_time,calculate,fetch_url",
            "open_meteo_geocoding_url": meteo.geocoding_url,
            "open_meteo_forecast_url": meteo.forecast_url,
            **FAST,
        }
        async with make_env(**(settings | overrides)) as env:
            yield env


@contextlib.asynccontextmanager
async def _slow_geocoder(seconds: float) -> AsyncIterator[str]:
    """A geocoder that answers after `seconds` (a stuck tool), or when the test is over: the
    server's shutdown waits for handlers still running."""
    over = asyncio.Event()

    async def search(request: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(over.wait(), seconds)
        return web.json_response({"generationtime_ms": 1.0})

    app = web.Application()
    app.router.add_get("/v1/search", search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/v1/search"
    finally:
        over.set()
        await runner.cleanup()


def _tool_messages(env: Env, index: int) -> list[dict[str, Any]]:
    return [m for m in env.upstream_messages(index) if m["role"] == "tool"]


async def test_weather_question_answered_from_the_tool(make_env: EnvFactory) -> None:
    async with _tools_env(make_env) as env:
        env.gonka.enqueue(
            Reply(text="", tool_calls=[WEATHER]),
            Reply(text="It is 3.4 °C in Berlin now.", ttft=0.6),
        )
        await env.telegram.send_text(USER, "what's the weather in Berlin?")
        await env.wait_replies(1)
        first, second = env.gonka.requests
        assert [t["function"]["name"] for t in first["tools"]] == [
            "get_weather", "get_time", "calculate", "fetch_url",
        ]  # fmt: skip
        call = second["messages"][-2]
        assert call["role"] == "assistant" and call["tool_calls"][0]["function"]["name"] == (
            "get_weather"
        )
        [result] = _tool_messages(env, 1)
        assert result["tool_call_id"] == call["tool_calls"][0]["id"]
        assert "3.4" in result["content"] and "Berlin" in result["content"]
        # The status line showed in the draft while the tool ran, and is not in the answer.
        drafts = [c.params.get("text", "") for c in env.telegram.calls_of("sendMessageDraft")]
        assert any("🌦 Weather: Berlin…" in text for text in drafts)
        assert env.visible_texts() == ["It is 3.4 °C in Berlin now."]


async def test_status_line_in_a_groups_edited_message(make_env: EnvFactory) -> None:
    async with _tools_env(make_env) as env:
        env.gonka.enqueue(
            Reply(text="Let me check.", tool_calls=[WEATHER]),
            Reply(text="3.4 °C.", ttft=0.6),
        )
        await env.telegram.send_text(
            GROUP, "@fake_llm_bot weather in Berlin?", user_id=ALICE, first_name="Alice",
            chat_type="supergroup", chat_title="Team",
        )  # fmt: skip
        await env.wait_replies(1, GROUP)
        edits = [c.params.get("text", "") for c in env.telegram.calls_of("editMessageText")]
        sends = [c.params.get("text", "") for c in env.telegram.calls_of("sendMessage")]
        assert any("🌦 Weather: Berlin…" in text for text in edits + sends)
        final = env.visible_texts(GROUP)[-1]
        assert "Weather" not in final
        assert final == "Let me check.\n\n3.4 °C."


async def test_two_parallel_calls_in_one_round(make_env: EnvFactory) -> None:
    async with _tools_env(make_env) as env:
        env.gonka.enqueue(
            Reply(
                text="", tool_calls=[WEATHER, ToolCall("get_time", {"timezone_or_city": "Tokyo"})]
            ),
            Reply(text="Done."),
        )
        await env.telegram.send_text(USER, "weather in Berlin and time in Tokyo?")
        await env.wait_replies(1)
        calls = env.upstream_messages(1)[-3]["tool_calls"]
        results = _tool_messages(env, 1)
        assert [r["tool_call_id"] for r in results] == [c["id"] for c in calls]
        assert "3.4" in results[0]["content"]
        assert "Asia/Tokyo" in results[1]["content"] or "Tokyo" in results[1]["content"]


async def test_the_proxys_one_json_emulation(make_env: EnvFactory) -> None:
    async with _tools_env(make_env) as env:
        env.gonka.enqueue(
            Reply(text="", tool_call_json=[ToolCall("calculate", {"expression": "0.175 * 2340"})]),
            Reply(text="409.5"),
        )
        await env.telegram.send_text(USER, "what's 17.5% of 2,340?")
        await env.wait_replies(1)
        [result] = _tool_messages(env, 1)
        assert "409.5" in result["content"]
        assert env.visible_texts() == ["409.5"]


async def test_a_rejection_of_tools_is_resent_without_and_remembered(
    make_env: EnvFactory,
) -> None:
    async with _tools_env(make_env) as env:
        env.gonka.rejected_params = {"tools"}
        env.gonka.enqueue(Reply(text="No tools here."), Reply(text="Still none."))
        await env.telegram.send_text(USER, "weather?")
        await env.wait_replies(1)
        await env.telegram.send_text(USER, "and now?")
        await env.wait_replies(2)
        assert ["tools" in body for body in env.gonka.requests] == [True, False, False]
        assert env.visible_texts() == ["No tools here.", "Still none."]


async def test_the_round_cap(make_env: EnvFactory) -> None:
    async with _tools_env(make_env, tool_max_rounds=1) as env:
        env.gonka.enqueue(
            Reply(text="", tool_calls=[WEATHER]), Reply(text="", tool_calls=[WEATHER])
        )
        env.gonka.enqueue(Reply(text="Enough."))
        await env.telegram.send_text(USER, "weather, again and again")
        await env.wait_replies(1)
        assert ["tools" in body for body in env.gonka.requests] == [True, False, False]
        refused = _tool_messages(env, 2)[-1]["content"]
        assert "limit of 1 tool rounds" in refused
        assert env.visible_texts() == ["Enough."]


async def test_a_stuck_tool_times_out_and_the_model_is_told(make_env: EnvFactory) -> None:
    async with (
        _slow_geocoder(30) as slow,
        _tools_env(make_env, tool_timeout=0.5, open_meteo_geocoding_url=slow) as env,
    ):
        env.gonka.enqueue(
            Reply(text="", tool_calls=[WEATHER]), Reply(text="The weather service hangs.")
        )
        await env.telegram.send_text(USER, "weather in Berlin?")
        await env.wait_replies(1)
        [result] = _tool_messages(env, 1)
        assert "did not finish within 0.5 seconds" in result["content"]
        assert env.visible_texts() == ["The weather service hangs."]


async def test_stop_during_a_tool(make_env: EnvFactory) -> None:
    async with (
        _slow_geocoder(30) as slow,
        _tools_env(make_env, open_meteo_geocoding_url=slow) as env,
    ):
        env.gonka.enqueue(Reply(text="Looking it up.", tool_calls=[WEATHER]))
        await env.telegram.send_text(USER, "weather in Berlin?")
        generation = await env.telegram.wait_for(
            lambda: next(iter(env.app.running.answers()), None)
        )
        await env.telegram.wait_for(
            lambda: any(
                "🌦" in c.params.get("text", "") for c in env.telegram.calls_of("sendMessageDraft")
            )
        )
        await env.telegram.stop_generation(USER, generation.draft_id)
        await env.wait_replies(1, timeout=5)
        assert env.gonka.completion_calls == 1  # no round after the stopped tool
        final = env.visible_texts()[-1]
        assert final.startswith("Looking it up.") and final.endswith("Stopped.")


async def test_history_keeps_calls_with_their_results_and_usage_sums_rounds(
    make_env: EnvFactory,
) -> None:
    async with _tools_env(make_env) as env:
        env.gonka.enqueue(Reply(text="", tool_calls=[WEATHER]), Reply(text="3.4 °C."))
        await env.telegram.send_text(USER, "weather in Berlin?")
        await env.wait_replies(1)
        env.gonka.enqueue(Reply(text="Yes."))
        await env.telegram.send_text(USER, "cold?")
        await env.wait_replies(2)
        roles = [m["role"] for m in env.upstream_messages(2)]
        assert roles == ["system", "user", "assistant", "tool", "assistant", "user"]
        assert env.upstream_messages(2)[2]["tool_calls"][0]["function"]["name"] == "get_weather"
        records = env.gonka.request_log
        spent = sum(prompt_tokens(r.body) + count_text(r.sent_content) for r in records)
        totals = await env.app.service.usage(USER) if env.app.service else None
        assert totals is not None and totals.today.total_tokens == spent


async def test_trimming_keeps_a_call_with_its_results(make_env: EnvFactory) -> None:
    async with _tools_env(make_env, context_token_budget=1000, max_tokens=256) as env:
        env.gonka.enqueue(Reply(text="", tool_calls=[WEATHER]), Reply(text="3.4 °C."))
        await env.telegram.send_text(USER, "weather in Berlin?")
        await env.wait_replies(1)
        for n in range(2, 6):
            env.gonka.enqueue(Reply(text="ok " * 20))
            await env.telegram.send_text(USER, f"question {n} " + "padding " * 60)
            await env.wait_replies(n)
        for body in env.gonka.requests:
            messages = body["messages"]
            for i, message in enumerate(messages):
                if message["role"] == "tool":
                    before = messages[i - 1]
                    assert before["role"] in ("assistant", "tool")
                    assert before.get("tool_calls") or before["role"] == "tool"
        assert any(m["role"] == "tool" for m in env.gonka.requests[2]["messages"])
        last = env.upstream_messages()
        assert len(last) < 2 + 2 * 5  # trimmed
        # The call and its result left the request together.
        assert not any(m["role"] == "tool" or m.get("tool_calls") for m in last)


async def test_fetch_url_refuses_the_bots_own_network(make_env: EnvFactory) -> None:
    async with PageServer() as pages, _tools_env(make_env) as env:
        targets = ["http://127.0.0.1/", "http://10.0.0.1/", "http://169.254.169.254/latest/"]
        env.gonka.enqueue(
            Reply(text="", tool_calls=[ToolCall("fetch_url", {"url": url}) for url in targets]),
            Reply(text="Refused."),
        )
        await env.telegram.send_text(USER, "read these")
        await env.wait_replies(1)
        results = [m["content"] for m in _tool_messages(env, 1)]
        assert len(results) == 3
        assert all("refused" in text.lower() or "not allowed" in text.lower() for text in results)
        # A public page that redirects into the network is refused after the redirect.
        assert env.app.toolbox is not None
        allow = {("127.0.0.1", pages.port)}
        assert env.app.jobs is not None
        env.app.toolbox.registry._tools["fetch_url"] = FetchUrlTool(allow=allow, jobs=env.app.jobs)
        env.gonka.enqueue(
            Reply(
                text="",
                tool_calls=[
                    ToolCall(
                        "fetch_url", {"url": pages.url("/redirect?to=http://169.254.169.254/")}
                    )
                ],
            ),
            Reply(text="Refused again."),
        )
        await env.telegram.send_text(USER, "and this one")
        await env.wait_replies(2)
        [redirected] = [m["content"] for m in _tool_messages(env, 3)][-1:]
        assert "169.254.169.254" in redirected
        assert "refused" in redirected.lower() or "not allowed" in redirected.lower()


async def test_tools_command_refused_to_non_admins_and_switches_for_admins(
    make_env: EnvFactory,
) -> None:
    async with _tools_env(make_env, admin_ids=frozenset({ALICE})) as env:
        group = {"chat_type": "supergroup", "chat_title": "Team"}
        await env.telegram.send_text(GROUP, "/tools off", user_id=BOB, first_name="Bob", **group)
        await env.wait_replies(1, GROUP)
        assert "Only this group's admins" in env.visible_texts(GROUP)[-1]
        await env.telegram.send_text(
            GROUP, "/tools off get_weather", user_id=ALICE, first_name="Alice", **group
        )
        await env.wait_replies(2, GROUP)
        listing = env.visible_texts(GROUP)[-1]
        assert "⛔ get_weather" in listing and "✅ get_time" in listing
        env.gonka.enqueue(Reply(text="Hi."))
        await env.telegram.send_text(
            GROUP, "@fake_llm_bot hi", user_id=BOB, first_name="Bob", **group
        )
        await env.wait_replies(3, GROUP)
        offered = [t["function"]["name"] for t in env.gonka.requests[-1]["tools"]]
        assert offered == ["get_time", "calculate", "fetch_url"]
        await env.telegram.send_text(
            GROUP, "/tools off", user_id=ALICE, first_name="Alice", **group
        )
        await env.wait_replies(4, GROUP)
        env.gonka.enqueue(Reply(text="Hi again."))
        await env.telegram.send_text(
            GROUP, "@fake_llm_bot hi", user_id=BOB, first_name="Bob", **group
        )
        await env.wait_replies(5, GROUP)
        assert "tools" not in env.gonka.requests[-1]


async def test_rich_drafts_show_the_tool_line_in_the_thinking_block(make_env: EnvFactory) -> None:
    async with _tools_env(make_env, rich_messages=True, rich_drafts=True) as env:
        env.gonka.enqueue(Reply(text="", tool_calls=[WEATHER]), Reply(text="**3.4 °C**", ttft=0.6))
        await env.telegram.send_text(USER, "weather in Berlin?")
        await env.wait_replies(1)
        drafts = [
            c.params["rich_message"]["markdown"]
            for c in env.telegram.calls_of("sendRichMessageDraft")
            if c.status == 200
        ]
        assert "<tg-thinking>🌦 Weather: Berlin…</tg-thinking>" in drafts
        final = env.visible()[-1].rich_markdown or ""
        assert "3.4 °C" in final and "Weather" not in final


async def test_rich_draft_with_text_before_the_call_shows_the_line_after_it(
    make_env: EnvFactory,
) -> None:
    async with _tools_env(make_env, rich_messages=True, rich_drafts=True) as env:
        env.gonka.enqueue(
            Reply(text="Let me check.", tool_calls=[WEATHER]),
            Reply(text="It is 3.4 °C.", ttft=0.6),
        )
        await env.telegram.send_text(USER, "weather in Berlin?")
        await env.wait_replies(1)
        drafts = [
            c.params["rich_message"]["markdown"]
            for c in env.telegram.calls_of("sendRichMessageDraft")
            if c.status == 200
        ]
        assert any(d.startswith("Let me check.") and "Weather: Berlin" in d for d in drafts)
        assert not env.telegram.calls_of("sendMessageDraft")  # no fallback to text drafts
        final = env.visible()[-1].rich_markdown or ""
        assert final.endswith("Let me check.\n\nIt is 3.4 °C.") and "Weather" not in final


async def test_bad_arguments_and_unknown_tools_go_back_to_the_model(make_env: EnvFactory) -> None:
    async with _tools_env(make_env) as env:
        bad = [ToolCall("get_weather", '{"location": "Ber'), ToolCall("launch_rockets", {})]
        env.gonka.enqueue(Reply(text="", tool_calls=bad), Reply(text="Sorry, I could not."))
        await env.telegram.send_text(USER, "weather?")
        await env.wait_replies(1)
        malformed, unknown = (m["content"] for m in _tool_messages(env, 1))
        assert "not valid JSON" in malformed
        assert "no tool named 'launch_rockets'" in unknown
        assert env.visible_texts() == ["Sorry, I could not."]


async def test_tools_command_in_private_is_for_the_bots_admins(make_env: EnvFactory) -> None:
    async with _tools_env(make_env, admin_ids=frozenset({ALICE})) as env:
        await env.telegram.send_text(USER, "/tools off")
        await env.wait_replies(1)
        assert env.visible_texts() == ["Only the bot's admins can do that."]
        await env.telegram.send_text(ALICE, "/tools off calculate", user_id=ALICE)
        await env.wait_replies(1, ALICE)
        assert "⛔ calculate" in env.visible_texts(ALICE)[-1]
        await env.telegram.send_text(ALICE, "/tools on", user_id=ALICE)
        await env.wait_replies(2, ALICE)
        assert "⛔" not in env.visible_texts(ALICE)[-1]
