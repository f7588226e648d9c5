"""Fake Open-Meteo geocoding (/v1/search) and forecast (/v1/forecast) with the real shapes.

Geocoding: {"results": [...], "generationtime_ms": ...}; no "results" key when nothing matched;
fewer than 2 characters match nothing; "name, Country" narrows by country or admin1.
Forecast: only the requested `current`/`daily` variables, with `current_units`/`daily_units`,
`timezone=auto` resolved; bad coordinates -> 400 {"error": true, "reason": "..."}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.doubles.local_server import LocalServer

PLACES: list[dict[str, Any]] = [
    {
        "id": 2950159, "name": "Berlin", "latitude": 52.52437, "longitude": 13.41053,
        "elevation": 74.0, "feature_code": "PPLC", "country_code": "DE", "admin1_id": 2950157,
        "timezone": "Europe/Berlin", "population": 3426354, "country_id": 2921044,
        "country": "Germany", "admin1": "Land Berlin",
    },
    {
        "id": 1850147, "name": "Tokyo", "latitude": 35.6895, "longitude": 139.69171,
        "elevation": 44.0, "feature_code": "PPLC", "country_code": "JP", "admin1_id": 1850144,
        "timezone": "Asia/Tokyo", "population": 8336599, "country_id": 1861060,
        "country": "Japan", "admin1": "Tokyo",
    },
    {
        "id": 2988507, "name": "Paris", "latitude": 48.85341, "longitude": 2.3488,
        "elevation": 42.0, "feature_code": "PPLC", "country_code": "FR", "admin1_id": 3012874,
        "timezone": "Europe/Paris", "population": 2138551, "country_id": 3017382,
        "country": "France", "admin1": "Île-de-France",
    },
    {
        "id": 4717560, "name": "Paris", "latitude": 33.66094, "longitude": -95.55551,
        "elevation": 183.0, "feature_code": "PPLA2", "country_code": "US", "admin1_id": 4736286,
        "timezone": "America/Chicago", "population": 24782, "country_id": 6252001,
        "country": "United States", "admin1": "Texas",
    },
]  # fmt: skip

UNITS = {
    "time": "iso8601", "interval": "seconds", "temperature_2m": "°C",
    "apparent_temperature": "°C", "relative_humidity_2m": "%", "weather_code": "wmo code",
    "wind_speed_10m": "km/h", "precipitation": "mm", "temperature_2m_max": "°C",
    "temperature_2m_min": "°C", "precipitation_sum": "mm",
}  # fmt: skip


@dataclass
class Weather:
    current: dict[str, float] = field(
        default_factory=lambda: {
            "temperature_2m": 3.4, "apparent_temperature": -0.7, "relative_humidity_2m": 81,
            "weather_code": 3, "wind_speed_10m": 14.2, "precipitation": 0.0,
        }
    )  # fmt: skip
    daily: dict[str, float] = field(
        default_factory=lambda: {
            "weather_code": 61, "temperature_2m_max": 5.1, "temperature_2m_min": -1.2,
            "precipitation_sum": 1.3,
        }
    )  # fmt: skip


class FakeOpenMeteo(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.weather = Weather()
        self.forecast_queries: list[dict[str, str]] = []

    @property
    def geocoding_url(self) -> str:
        return self.url("/v1/search")

    @property
    def forecast_url(self) -> str:
        return self.url("/v1/forecast")

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/search", self._search)
        app.router.add_get("/v1/forecast", self._forecast)

    async def _search(self, request: web.Request) -> web.Response:
        name = request.query.get("name")
        if name is None:
            return web.json_response(
                {"error": True, "reason": "Parameter 'name' is required"}, status=400
            )
        count = int(request.query.get("count", "10"))
        base, _, narrow = (part.strip().lower() for part in name.partition(","))
        found = [
            place for place in PLACES
            if len(base) >= 2 and place["name"].lower().startswith(base)
            and (not narrow or narrow in (place["country"].lower(), place["admin1"].lower(),
                                          place["country_code"].lower()))
        ]  # fmt: skip
        body: dict[str, Any] = {"generationtime_ms": 0.61}
        if found:
            body["results"] = found[:count]
        return web.json_response(body)

    async def _forecast(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.forecast_queries.append(query)
        try:
            lat, lon = float(query["latitude"]), float(query["longitude"])
        except (KeyError, ValueError):
            return web.json_response({"error": True, "reason": "Parameter 'latitude' and 'longitude' must have the same number of elements"}, status=400)  # fmt: skip
        if not -90 <= lat <= 90:
            return web.json_response({"error": True, "reason": f"Latitude must be in range of -90 to 90°. Given: {lat}."}, status=400)  # fmt: skip
        zone = next((p["timezone"] for p in PLACES if abs(p["latitude"] - lat) < 0.01), "GMT")
        body: dict[str, Any] = {
            "latitude": round(lat, 2), "longitude": round(lon, 2), "generationtime_ms": 0.05,
            "utc_offset_seconds": 3600, "timezone": zone if query.get("timezone") == "auto" else "GMT",
            "timezone_abbreviation": "GMT+1", "elevation": 38.0,
        }  # fmt: skip
        current = [v for v in query.get("current", "").split(",") if v]
        if current:
            body["current_units"] = {k: UNITS[k] for k in ("time", "interval", *current)}
            body["current"] = {"time": "2026-12-01T18:00", "interval": 900}
            body["current"].update({k: self.weather.current[k] for k in current})
        daily = [v for v in query.get("daily", "").split(",") if v]
        if daily:
            body["daily_units"] = {"time": "iso8601"} | {k: UNITS[k] for k in daily}
            body["daily"] = {"time": ["2026-12-01"]} | {k: [self.weather.daily[k]] for k in daily}
        return web.json_response(body)
