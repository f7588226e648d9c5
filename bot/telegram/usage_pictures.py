"""The /usage and /stats pictures: the daily series read in one round trip, drawn in a worker
process (job "render_chart"), cached a minute per user, and uploaded with the text figures kept
in their own message."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile
from babel.dates import format_skeleton

from bot.core.jobs import JobFailed, JobRunner, JobsBusy
from bot.core.models import Usage
from bot.core.usage import cost
from bot.core.usage_chart import (
    Chart,
    DailyUsage,
    Owner,
    Panel,
    PictureCache,
    last_days,
    short_model,
    stacked,
)
from bot.telegram.texts import Lang, number, t
from bot.telegram.turn import Turn

log = logging.getLogger(__name__)


def day_label(day: date, lang: Lang) -> str:
    """A day as the user's locale writes a short date ("Dec 8", "8 дек.")."""
    return format_skeleton("MMMd", day, locale=lang)


class UsagePictures:
    """Renders and sends the usage pictures; a failure is logged, the text was already sent."""

    def __init__(
        self,
        bot: Bot,
        store: DailyUsage,
        jobs: JobRunner,
        price_per_million: float,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._store = store
        self._jobs = jobs
        self._price = price_per_million
        self._today = today
        self._cache = PictureCache(clock)

    async def send_usage(self, turn: Turn) -> None:
        """The user's tokens by day and model (and the group's, in a group)."""
        key = ("usage", turn.user_id, None if turn.private else turn.chat_id, turn.lang)
        owners: list[tuple[str, Owner | None]] = [("chart_user", ("user", turn.user_id))]
        if not turn.private:
            owners.append(("chart_group", ("chat", turn.chat_id)))
        await self._send(turn, key, owners, ())

    async def send_stats(self, turn: Turn) -> None:
        """The bot's tokens by day and model, with this month's top users."""
        month = (await self._store.stats(datetime.now(UTC), 5))[1]
        notes = [t("chart_top_users", turn.lang)] if month.top_users else []
        notes += [f"{uid}: {number(n, turn.lang)}" for uid, n in month.top_users]
        await self._send(turn, ("stats", turn.lang), [("chart_bot", None)], tuple(notes))

    async def chart(self, owners: list[tuple[str, Owner | None]], lang: Lang) -> Chart:
        """The panels of the owners' last 30 days (one read per owner)."""
        days = last_days(self._today())
        labels = tuple(day_label(d, lang) for d in days)
        panels = []
        for title_key, owner in owners:
            by_day = await self._store.daily(owner, days)
            series = stacked(by_day, t("chart_other", lang))
            tokens = sum(sum(d.values()) for d in by_day)
            money = round(cost(Usage(tokens, 0), self._price), 4)
            title = t(title_key, lang, tokens=tokens, cost=money)
            named = tuple((short_model(m), v) for m, v in series)
            panels.append(Panel(title, labels, named))
        return Chart(tuple(panels))

    async def _send(
        self,
        turn: Turn,
        key: object,
        owners: list[tuple[str, Owner | None]],
        notes: tuple[str, ...],
    ) -> None:
        picture = self._cache.get(key)
        try:
            if picture is None:
                chart = await self.chart(owners, turn.lang)
                last = chart.panels[-1]
                chart = Chart(
                    (*chart.panels[:-1], Panel(last.title, last.labels, last.series, notes))
                )
                picture = await self._jobs.run("render_chart", chart)
                assert isinstance(picture, bytes)
                self._cache.put(key, picture)
            photo = BufferedInputFile(picture, "usage.png")
            await self._bot.send_photo(
                turn.chat_id, photo, message_thread_id=turn.thread_id,
                reply_to_message_id=turn.reply_to,
            )  # fmt: skip
        except (JobFailed, JobsBusy, TelegramAPIError) as exc:
            log.warning("usage picture not sent chat=%s error=%s", turn.chat_id, type(exc).__name__)
