"""get_weather, get_time and calculate against the fake Open-Meteo, through the real runner."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.adapters.tools.calculate import CalculateTool
from bot.adapters.tools.http import tool_session
from bot.adapters.tools.open_meteo import OpenMeteoGeocoder, TimeTool, WeatherTool
from bot.core.models import ToolCall
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import Tool
from bot.workers.pool import WorkerPool
from tests.doubles.fake_open_meteo import FakeOpenMeteo
from tests.doubles.hostile_files import HOSTILE_EXPRESSIONS
from tests.fakes import shown

NOW = datetime(2026, 12, 1, 17, 3, 42, tzinfo=UTC)


@pytest.fixture
async def meteo() -> AsyncIterator[FakeOpenMeteo]:
    async with FakeOpenMeteo() as server:
        yield server


@pytest.fixture
async def tools(meteo: FakeOpenMeteo, jobs: WorkerPool) -> AsyncIterator[dict[str, Tool]]:
    async with tool_session(timeout=5) as session:
        geocoder = OpenMeteoGeocoder(session, meteo.geocoding_url)
        yield {
            "get_weather": WeatherTool(session, geocoder, meteo.forecast_url),
            "get_time": TimeTool(geocoder, clock=lambda: NOW),
            "calculate": CalculateTool(jobs),
        }


async def _run(tools: dict[str, Tool], name: str, arguments: str) -> tuple[str, str]:
    [result] = await ToolRunner(ToolLimits(timeout=5)).run([ToolCall("c", name, arguments)], tools)
    return result.content, result.outcome


async def test_weather_in_berlin(tools: dict[str, Tool], meteo: FakeOpenMeteo) -> None:
    meteo.weather.current["temperature_2m"] = 7.3
    text, outcome = await _run(tools, "get_weather", '{"location": "Berlin"}')
    assert outcome == "ok"
    assert text.startswith(
        "Berlin, Land Berlin, Germany (52.52, 13.41); local time 2026-12-01T18:00"
    )
    assert "(Europe/Berlin)" in text
    assert "Now: 7.3 °C (feels like -0.7 °C), overcast, humidity 81 %, wind 14.2 km/h" in text
    assert "Today: -1.2 °C to 5.1 °C, slight rain, precipitation 1.3 mm." in text
    [query] = meteo.forecast_queries
    assert (query["latitude"], query["longitude"], query["timezone"]) == (
        "52.52437",
        "13.41053",
        "auto",
    )
    assert "temperature_2m" in query["current"] and "temperature_2m_max" in query["daily"]


async def test_weather_narrowed_by_country_and_unknown_place(tools: dict[str, Tool]) -> None:
    text, _ = await _run(tools, "get_weather", '{"location": "Paris, Texas"}')
    assert text.startswith("Paris, Texas, United States")
    text, _ = await _run(tools, "get_weather", '{"location": "Tokyo, Mars"}')
    assert text.startswith("Tokyo, Japan")  # the narrowing found nothing: the bare name is tried
    text, outcome = await _run(tools, "get_weather", '{"location": "Atlantis"}')
    assert outcome == "error"
    assert text == "Error: No place called 'Atlantis' was found. Try the English name."


async def test_weather_service_errors_are_results(meteo: FakeOpenMeteo) -> None:
    async with tool_session(timeout=5) as session:
        geocoder = OpenMeteoGeocoder(session, meteo.geocoding_url)
        broken = {"get_weather": WeatherTool(session, geocoder, meteo.url("/missing"))}
        text, outcome = await _run(broken, "get_weather", '{"location": "Berlin"}')
        assert (text, outcome) == ("Error: The weather service answered HTTP 404.", "error")
        dead = OpenMeteoGeocoder(session, "http://127.0.0.1:9/v1/search")
        down = {"get_weather": WeatherTool(session, dead, meteo.forecast_url)}
        text, outcome = await _run(down, "get_weather", '{"location": "Berlin"}')
        assert text.startswith("Error: The geocoding service could not be reached")


async def test_time_for_a_zone_and_for_a_city(tools: dict[str, Tool], meteo: FakeOpenMeteo) -> None:
    text, _ = await _run(tools, "get_time", '{"timezone_or_city": "Asia/Tokyo"}')
    assert (
        text == "Asia/Tokyo (Asia/Tokyo): Wednesday, 02 December 2026, 02:03:42, UTC+09:00 (JST)."
    )
    assert not any(p.startswith("/v1/search") for p in meteo.paths)
    text, _ = await _run(tools, "get_time", '{"timezone_or_city": "Berlin"}')
    assert text == (
        "Berlin, Land Berlin, Germany (Europe/Berlin): Tuesday, 01 December 2026, 18:03:42, "
        "UTC+01:00 (CET)."
    )
    text, outcome = await _run(tools, "get_time", '{"timezone_or_city": "../../etc/passwd"}')
    assert outcome == "error" and "No place called" in text


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0.175 * 2340", "0.175 * 2340 = 409.5"),
        ("2^10 + sqrt(16)", "2^10 + sqrt(16) = 1028"),
        ("round(100/3, 2)", "round(100/3, 2) = 33.33"),
        ("10 // 3 == 3", "10 // 3 == 3 = true"),
    ],
)
async def test_calculate(tools: dict[str, Tool], expression: str, expected: str) -> None:
    assert await _run(tools, "calculate", f'{{"expression": "{expression}"}}') == (expected, "ok")


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("9**9**9", "Exponents above 1000 are not allowed."),
        ("(10**999)**999", "The result would be too large."),
        ("1/0", "Division by zero."),
        ("1e308 * 10", "not a finite number"),
        ("__import__('os').system('id')", "Only arithmetic is allowed"),
        ("(1).__class__", "not attributes"),
        ("'a' * 1000000", "not text"),
        ("2,340 * 2", "without thousands separators"),
        ("1+" * 200 + "1", "longer than 300 characters"),
    ],
)
async def test_calculate_refuses(tools: dict[str, Tool], expression: str, error: str) -> None:
    escaped = expression.replace("'", "\\u0027")
    text, outcome = await _run(tools, "calculate", f'{{"expression": "{escaped}"}}')
    assert outcome == "error" and error in text


@pytest.mark.parametrize(
    ("expression", "error"),
    list(
        zip(
            HOSTILE_EXPRESSIONS,
            ("at most 100 digits", "not methods", "not methods", "not text"),
            strict=True,
        )
    ),
)
async def test_calculate_refuses_what_froze_the_bot(
    tools: dict[str, Tool], jobs: WorkerPool, expression: str, error: str
) -> None:
    """Issue 25: each ran for seconds or allocated hundreds of MB on the event loop."""
    text, outcome = await _run(tools, "calculate", json.dumps({"expression": expression}))
    assert outcome == "error" and error in text
    assert len(jobs.processes) == 1  # it ran in a worker process, not in the bot's


def test_status_lines(tools: dict[str, Tool]) -> None:
    assert shown(tools["get_weather"], {"location": "Berlin"}, "en") == "🌦 Weather: Berlin…"
    assert shown(tools["get_weather"], {"location": "Берлин"}, "ru") == "🌦 Погода: Берлин…"
    assert shown(tools["get_time"], {"timezone_or_city": "Tokyo"}, "ru") == "🕒 Время: Tokyo…"
    assert shown(tools["calculate"], {"expression": "1+1"}, "en") == "🧮 Calculating: 1+1…"
