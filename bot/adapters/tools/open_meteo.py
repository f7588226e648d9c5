"""get_weather and get_time on Open-Meteo's geocoding and forecast APIs (no key needed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp

from bot.adapters.tools.http import get_json
from bot.core.tools import StatusLine, ToolError, ToolSpec, short

GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"

WMO_CODES = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "depositing rime fog",
    51: "light drizzle",
    53: "moderate drizzle",
    55: "dense drizzle",
    56: "light freezing drizzle",
    57: "dense freezing drizzle",
    61: "slight rain",
    63: "moderate rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "heavy freezing rain",
    71: "slight snow fall",
    73: "moderate snow fall",
    75: "heavy snow fall",
    77: "snow grains",
    80: "slight rain showers",
    81: "moderate rain showers",
    82: "violent rain showers",
    85: "slight snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with slight hail",
    99: "thunderstorm with heavy hail",
}
CURRENT = (
    "temperature_2m,apparent_temperature,relative_humidity_2m,weather_code,"
    "wind_speed_10m,precipitation"
)
DAILY = "weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum"


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    region: str
    country: str
    latitude: float
    longitude: float
    timezone: str

    @property
    def label(self) -> str:
        parts = [self.name, self.region if self.region != self.name else "", self.country]
        return ", ".join(part for part in parts if part)


class OpenMeteoGeocoder:
    """Place names -> coordinates and time zone, via Open-Meteo's geocoding search."""

    def __init__(self, session: aiohttp.ClientSession, url: str = GEOCODING_URL) -> None:
        self._session = session
        self._url = url

    async def find(self, query: str) -> Place:
        """The best match for `query` ("Berlin", "Paris, Texas"); ToolError when none."""
        query = " ".join(query.split())
        if len(query) < 2:
            raise ToolError("The place name is too short to look up.")
        place = await self._search(query)
        if place is None and "," in query:
            # The API narrows by ", country or region"; retry the bare name if that found none.
            place = await self._search(query.split(",")[0].strip())
        if place is None:
            raise ToolError(f"No place called {query!r} was found. Try the English name.")
        return place

    async def _search(self, name: str) -> Place | None:
        params: dict[str, str | int | float] = {
            "name": name,
            "count": 1,
            "language": "en",
            "format": "json",
        }
        data = await get_json(self._session, self._url, params, "The geocoding service")
        results = data.get("results") if isinstance(data, dict) else None
        if not results or not isinstance(results[0], dict):
            return None
        best = results[0]
        try:
            return Place(
                name=str(best["name"]),
                region=str(best.get("admin1") or ""),
                country=str(best.get("country") or best.get("country_code") or ""),
                latitude=float(best["latitude"]),
                longitude=float(best["longitude"]),
                timezone=str(best.get("timezone") or "UTC"),
            )
        except (KeyError, TypeError, ValueError):
            raise ToolError("The geocoding service sent an unexpected answer.") from None


class WeatherTool:
    """get_weather(location): current conditions and today's range, metric."""

    spec = ToolSpec.one_string(
        "get_weather",
        "Get current weather and today's forecast for a location",
        "location",
    )

    def __init__(
        self, session: aiohttp.ClientSession, geocoder: OpenMeteoGeocoder, url: str = FORECAST_URL
    ) -> None:
        self._session = session
        self._geocoder = geocoder
        self._url = url

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_get_weather", short(args.get("location", "")))

    async def run(self, args: Mapping[str, Any]) -> str:
        place = await self._geocoder.find(str(args["location"]))
        params: dict[str, str | int | float] = {
            "latitude": place.latitude,
            "longitude": place.longitude,
            "current": CURRENT,
            "daily": DAILY,
            "timezone": "auto",
            "forecast_days": 1,
        }
        data = await get_json(self._session, self._url, params, "The weather service")
        try:
            return _describe(place, data)
        except (KeyError, TypeError, IndexError, ValueError):
            raise ToolError("The weather service sent an unexpected answer.") from None


def _describe(place: Place, data: dict[str, Any]) -> str:
    now, units = data["current"], data.get("current_units") or {}
    day, day_units = data["daily"], data.get("daily_units") or {}

    def value(source: Mapping[str, Any], src_units: Mapping[str, Any], key: str) -> str:
        return f"{source[key]} {src_units.get(key, '')}".strip()

    lines = [
        f"{place.label} ({place.latitude:.2f}, {place.longitude:.2f}); "
        f"local time {now['time']} ({data.get('timezone', place.timezone)}).",
        f"Now: {value(now, units, 'temperature_2m')} "
        f"(feels like {value(now, units, 'apparent_temperature')}), "
        f"{WMO_CODES.get(int(now['weather_code']), 'weather code ' + str(now['weather_code']))}, "
        f"humidity {value(now, units, 'relative_humidity_2m')}, "
        f"wind {value(now, units, 'wind_speed_10m')}, "
        f"precipitation {value(now, units, 'precipitation')}.",
    ]
    today = {key: values[0] for key, values in day.items() if isinstance(values, list) and values}
    lines.append(
        f"Today: {value(today, day_units, 'temperature_2m_min')} to "
        f"{value(today, day_units, 'temperature_2m_max')}, "
        f"{WMO_CODES.get(int(today['weather_code']), 'weather code')}, "
        f"precipitation {value(today, day_units, 'precipitation_sum')}."
    )
    return "\n".join(lines)


class TimeTool:
    """get_time(timezone_or_city): the current date and time for an IANA zone or a place."""

    spec = ToolSpec.one_string(
        "get_time",
        "Get the current date and time for an IANA time zone (e.g. Asia/Tokyo) or a city",
        "timezone_or_city",
    )

    def __init__(
        self,
        geocoder: OpenMeteoGeocoder,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._geocoder = geocoder
        self._clock = clock

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_get_time", short(args.get("timezone_or_city", "")))

    async def run(self, args: Mapping[str, Any]) -> str:
        query = str(args["timezone_or_city"]).strip()
        zone = _zone(query)
        label = query
        if zone is None:
            place = await self._geocoder.find(query)
            zone = _zone(place.timezone)
            if zone is None:
                raise ToolError(f"The time zone of {place.label} is not known.")
            label = place.label
        now = self._clock().astimezone(zone)
        offset = now.strftime("%z")
        return (
            f"{label} ({zone.key}): {now:%A, %d %B %Y, %H:%M:%S}, "
            f"UTC{offset[:3]}:{offset[3:]} ({now.tzname()})."
        )


def _zone(name: str) -> ZoneInfo | None:
    if not name or name.startswith(("/", ".")) or ".." in name or " " in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
