"""Issue 22: /usage and /stats attach a PNG of the last 30 days whose series are the counters."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_usage import RedisUsageStore
from bot.adapters.usage_chart import PALETTE
from bot.telegram.usage_pictures import UsagePictures
from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import USER, Env, EnvFactory
from tests.e2e.test_inputs import GROUP, QUIET

PICTURES: dict[str, Any] = {**QUIET, "usage_pictures": True, "admin_ids": str(USER)}


def store_of(env: Env) -> RedisUsageStore:
    return RedisUsageStore(env.app.redis, RedisKeys(env.app.settings.redis_key_prefix))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


async def test_usage_attaches_a_png_whose_series_are_the_counters(make_env: EnvFactory) -> None:
    async with make_env(**PICTURES) as env:
        env.gonka.enqueue(Reply(text="One."), Reply(text="Two."))
        await env.telegram.send_text(USER, "first question")
        await env.wait_replies(1)
        await env.telegram.send_text(USER, "second question")
        await env.wait_replies(2)
        await env.telegram.send_text(USER, "/usage")
        await env.telegram.wait_for(lambda: len(env.telegram.uploaded_photos) == 1, timeout=20)
        image = decoded(env.telegram.uploaded_photos[0])
        assert image.size == (1080, 620) and len(env.telegram.uploaded_photos[0]) < 500_000
        assert image.convert("RGB").getcolors(1 << 20)  # drawn, not blank
        colors = {c for _, c in image.convert("RGB").getcolors(1 << 20) or []}
        assert PALETTE[0] in colors  # today's bar
        assert env.visible()[-1].media["photo"] and "first" not in (env.visible()[-1].text or "")
        assert env.visible_texts()[-2]  # the text figures stay, in their own message

        store = store_of(env)
        totals = await store.totals(USER, datetime.now(UTC))
        pictures = UsagePictures(env.app.bot, store, env.app.jobs, 0.0)
        chart = await pictures.chart([("chart_user", ("user", USER))], "en")
        [panel] = chart.panels
        assert panel.totals[-1] == totals.today.total_tokens > 0  # today, all models
        assert sum(panel.totals[:-1]) == 0 and len(panel.labels) == 30


async def test_a_group_usage_shows_the_user_and_the_group(make_env: EnvFactory) -> None:
    group: dict[str, Any] = {"chat_type": "supergroup", "chat_title": "Team"}
    async with make_env(**PICTURES) as env:
        env.gonka.enqueue(Reply(text="Hi."))
        await env.telegram.send_text(GROUP, "@fake_llm_bot hello", **group)
        await env.wait_replies(1, GROUP)
        await env.telegram.send_text(GROUP, "/usage", **group)
        await env.telegram.wait_for(lambda: len(env.telegram.uploaded_photos) == 1, timeout=20)
        assert decoded(env.telegram.uploaded_photos[0]).size == (1080, 1240)  # two panels


async def test_stats_attaches_the_bots_picture_and_repeats_come_from_the_cache(
    make_env: EnvFactory,
) -> None:
    async with make_env(**PICTURES) as env:
        env.gonka.enqueue(Reply(text="One."))
        await env.telegram.send_text(USER, "question")
        await env.wait_replies(1)
        await env.telegram.send_text(USER, "/stats")
        await env.telegram.wait_for(lambda: len(env.telegram.uploaded_photos) == 1, timeout=20)
        assert decoded(env.telegram.uploaded_photos[0]).size == (1080, 620)
        store = store_of(env)
        [bot_day] = await store.daily(None, [datetime.now(UTC).date()])
        [user_day] = await store.daily(("user", USER), [datetime.now(UTC).date()])
        assert bot_day == user_day and sum(bot_day.values()) > 0  # one user: the same series
        await env.telegram.send_text(USER, "/stats")
        await env.telegram.wait_for(lambda: len(env.telegram.uploaded_photos) == 2, timeout=20)
        assert env.telegram.uploaded_photos[1] == env.telegram.uploaded_photos[0]
