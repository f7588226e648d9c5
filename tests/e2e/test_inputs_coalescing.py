"""The coalescing middleware in a real aiogram Dispatcher, fed by the fake Telegram's updates the
way polling feeds them (one task per update), and the document reader over real downloads."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import docx
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

from bot.core.coalesce import Batch, CoalesceConfig, Coalescer
from bot.core.documents import DocumentLimits, DocumentText, Unreadable
from bot.core.inputs import ForwardOrigin
from bot.telegram.coalescing import CoalesceMiddleware
from bot.telegram.input_kinds import DOCUMENT, PHOTO
from bot.telegram.inputs import (
    coalescable,
    data_url,
    origin_of,
    part_of,
    photo_sizes,
    quick_kind,
    read_document,
)
from bot.workers.pool import WorkerPool
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.fake_telegram_files import origin_channel, origin_hidden_user, origin_user

USER = 4242
CONFIG = CoalesceConfig(gap=0.4, settle=0.15, max_wait=2.0)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[tuple[list[int], str, float]] = []
        self.plain: list[int] = []  # handled with no batch (commands, stickers)

    async def on_message(self, message: Message, batch: Batch[Message] | None = None) -> None:
        if batch is None:
            self.plain.append(message.message_id)
            return
        ids = [p.message_id for p in batch.parts]
        self.batches.append((ids, batch.text, time.monotonic()))


def dispatcher(recorder: Recorder) -> Dispatcher:
    dp = Dispatcher()
    dp.update.outer_middleware(CoalesceMiddleware(Coalescer(CONFIG, time.monotonic)))
    router = Router()
    router.message.register(recorder.on_message)
    dp.include_router(router)
    return dp


async def feed(bot: Bot, dp: Dispatcher, gaps: dict[int, float] | None = None) -> list[float]:
    """Feed every pending update as its own task (as polling does); `gaps[i]` waits before the
    i-th update. Returns when all are handled; the times each was fed."""
    updates: list[Update] = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    tasks, fed = [], []
    for index, update in enumerate(updates):
        if gaps and index in gaps:
            await asyncio.sleep(gaps[index])
        fed.append(time.monotonic())
        tasks.append(asyncio.create_task(dp.feed_update(bot, update)))
    await asyncio.gather(*tasks)
    return fed


async def test_a_4000_plus_500_paste_reaches_the_handler_once(
    tg: FakeTelegramServer, bot: Bot
) -> None:
    recorder = Recorder()
    await tg.send_text(USER, "A" * 4000)
    await tg.send_text(USER, "B" * 500)
    fed = await feed(bot, dispatcher(recorder), gaps={1: 0.2})
    ((ids, text, at),) = recorder.batches
    assert len(ids) == 2 and text == "A" * 4000 + "\n" + "B" * 500
    assert 0.1 <= at - fed[1] < 0.4  # closed by the settle time after the short tail


async def test_a_short_message_is_not_delayed(tg: FakeTelegramServer, bot: Bot) -> None:
    recorder = Recorder()
    await tg.send_text(USER, "hello there")
    fed = await feed(bot, dispatcher(recorder))
    ((_, text, at),) = recorder.batches
    assert text == "hello there" and at - fed[0] < 0.05


async def test_an_album_is_one_turn(tg: FakeTelegramServer, bot: Bot) -> None:
    recorder = Recorder()
    ids = await tg.send_album(USER, [b"\xff\xd8\xffone", b"\xff\xd8\xfftwo", b"\xff\xd8\xffthree"])
    await feed(bot, dispatcher(recorder))
    assert [b[0] for b in recorder.batches] == [ids]


async def test_a_forward_and_the_question_are_one_turn(tg: FakeTelegramServer, bot: Bot) -> None:
    recorder = Recorder()
    await tg.send_forward(
        USER, "The meeting moved to Friday.", origin=origin_user(7, "Anna", "anna")
    )
    await tg.send_text(USER, "what should I reply?")
    await feed(bot, dispatcher(recorder), gaps={1: 0.1})
    ((_, text, _),) = recorder.batches
    assert text == (
        "[Forwarded from the user Anna (@anna)]\nThe meeting moved to Friday.\nwhat should I reply?"
    )


async def test_commands_and_other_users_are_never_joined(tg: FakeTelegramServer, bot: Bot) -> None:
    recorder = Recorder()
    await tg.send_text(USER, "A" * 4000)
    await tg.send_text(USER, "/new")
    await tg.send_text(USER + 1, "hi from someone else")
    await tg.send_sticker(USER)
    await feed(bot, dispatcher(recorder))
    assert sorted(len(b[0]) for b in recorder.batches) == [1, 1]
    assert len(recorder.plain) == 2  # the command and the sticker, handled at once


async def test_message_helpers(tg: FakeTelegramServer, bot: Bot) -> None:
    await tg.send_forward(USER, "psst", origin=origin_hidden_user("Ghost"))
    await tg.send_forward(USER, "news", origin=origin_channel(-1009, "News", 5, "news"))
    await tg.send_photo_file(USER, b"\xff\xd8\xffimg", caption="what is it?")
    await tg.send_voice(USER)
    await tg.send_poll(USER)
    hidden, channel, photo, voice, poll = [u.message for u in await bot.get_updates(timeout=0)]
    assert hidden and channel and photo and voice and poll
    assert origin_of(hidden) == ForwardOrigin("hidden_user", "Ghost")
    assert origin_of(channel) == ForwardOrigin("channel", "News", "news")
    assert part_of(hidden).kind == "forward" and part_of(hidden).text.endswith("\npsst")
    assert part_of(photo).kind == "media" and part_of(photo).text == "what is it?"
    assert len(photo_sizes(photo)) == 4 and coalescable(photo)
    assert (quick_kind(voice), quick_kind(poll), quick_kind(photo)) == ("voice", "poll", None)
    assert coalescable(voice) and not coalescable(voice, (DOCUMENT, PHOTO))
    assert data_url(b"\xff\xd8") == "data:image/jpeg;base64,/9g="


async def test_read_document_downloads_and_extracts(
    tg: FakeTelegramServer, bot: Bot, jobs: WorkerPool
) -> None:
    document = docx.Document()
    document.add_paragraph("The unique phrase is saffron-lynx-808.")
    out = io.BytesIO()
    document.save(out)
    await tg.send_document(USER, out.getvalue(), "brief.docx", caption="summarize")
    await tg.send_document(USER, b"x" * 10, "huge.pdf", size=25 * 1024 * 1024)
    await tg.send_document(USER, b"x" * 10, "big.txt", size=200_000)
    small, huge, big = [u.message for u in await bot.get_updates(timeout=0)]
    assert small and small.document and huge and huge.document and big and big.document
    limits = DocumentLimits(max_bytes=100_000)
    result: Any = await read_document(bot, small.document, limits, jobs)
    assert isinstance(result, DocumentText) and "saffron-lynx-808" in result.text
    assert await read_document(bot, huge.document, limits, jobs) == Unreadable(
        "huge.pdf", "PDF file", "too_big", 25 * 1024 * 1024
    )
    assert (await read_document(bot, big.document, limits, jobs)).reason == "too_big"  # type: ignore[union-attr]
    assert len(tg.files.downloads) == 1  # too-big files are never downloaded
