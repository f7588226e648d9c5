"""Issue 22: the usage picture's series, cache and labels (pure), and the drawing itself."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from bot.adapters.usage_chart import nice_top, render
from bot.core.usage_chart import Chart, Panel, PictureCache, last_days, short_model, stacked
from bot.telegram.usage_pictures import day_label


def test_series_are_stacked_largest_first_and_the_rest_summed() -> None:
    days = [{"a": 5, "b": 1, "c": 1, "d": 1}, {"a": 1, "e": 4}]
    series = stacked(days, "other", max_models=3)
    assert series == (("a", (5, 1)), ("e", (0, 4)), ("other", (3, 0)))
    assert Panel("t", ("1", "2"), series).totals == (8, 5)


def test_thirty_days_end_today_and_labels_follow_the_locale() -> None:
    days = last_days(date(2026, 12, 8))
    assert len(days) == 30 and days[0] == date(2026, 11, 9) and days[-1] == date(2026, 12, 8)
    assert day_label(date(2026, 12, 8), "en") == "Dec 8"
    assert day_label(date(2026, 12, 8), "ru") == "8 дек."
    assert short_model("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8") == "Qwen3-235B-A22B-Instruct-25…"


def test_the_cache_keeps_a_picture_a_minute() -> None:
    now = [0.0]
    cache = PictureCache(lambda: now[0], ttl=60)
    cache.put("k", b"png")
    now[0] = 59.0
    assert cache.get("k") == b"png"
    now[0] = 60.0
    assert cache.get("k") is None


def test_a_chart_renders_as_a_png_with_nice_axes() -> None:
    assert [nice_top(n) for n in (1, 3, 30_000, 123_456)] == [4, 4, 40_000, 200_000]
    panel = Panel("Вы, 30 дней", tuple(str(i) for i in range(30)), (("m", tuple(range(30))),))
    image = Image.open(io.BytesIO(render(Chart((panel,)))))
    assert image.format == "PNG" and image.size == (1080, 620)
