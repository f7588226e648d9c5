"""The fake Telegram's files (getFile, the download path) and non-text updates, read by aiogram."""

from __future__ import annotations

import io

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from tests.doubles.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer
from tests.doubles.fake_telegram_files import (
    origin_channel,
    origin_chat,
    origin_hidden_user,
    origin_user,
)
from tests.doubles.telegram_fixtures import FakeClock

PRIVATE = 4242


FAKE_CLOCK = True  # tests move `clock` by hand (tests/doubles/telegram_fixtures.py)


async def messages(bot: Bot) -> list[Message]:
    updates = await bot.get_updates(timeout=0)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return [u.message for u in updates if u.message is not None]


async def download(bot: Bot, file_id: str) -> bytes:
    file = await bot.get_file(file_id)
    assert file.file_path is not None
    out = io.BytesIO()
    await bot.download_file(file.file_path, out)
    return out.getvalue()


async def test_document_downloads_with_its_real_bytes(tg: FakeTelegramServer, bot: Bot) -> None:
    data = b"%PDF-1.4 fake but real bytes \x00\x01\x02" * 1000
    await tg.send_document(
        PRIVATE, data, "report.pdf", mime_type="application/pdf", caption="sum up"
    )
    (message,) = await messages(bot)
    document = message.document
    assert document is not None and message.caption == "sum up"
    assert (document.file_name, document.mime_type, document.file_size) == (
        "report.pdf", "application/pdf", len(data),
    )  # fmt: skip
    file = await bot.get_file(document.file_id)
    assert file.file_path is not None and file.file_path.startswith("documents/")
    assert file.file_path.endswith(".pdf") and file.file_size == len(data)
    assert await download(bot, document.file_id) == data
    assert tg.files.downloads == [file.file_path]


async def test_files_over_20_mb_are_too_big(tg: FakeTelegramServer, bot: Bot) -> None:
    await tg.send_document(PRIVATE, b"x" * 10, "movie.mkv", size=20 * 1024 * 1024 + 1)
    (message,) = await messages(bot)
    assert message.document is not None and message.document.file_size == 20 * 1024 * 1024 + 1
    with pytest.raises(TelegramBadRequest, match="Bad Request: file is too big"):
        await bot.get_file(message.document.file_id)
    await tg.send_document(PRIVATE, b"y" * 10, "ok.bin", size=20 * 1024 * 1024)
    (ok,) = await messages(bot)
    assert ok.document is not None
    assert (await bot.get_file(ok.document.file_id)).file_path


async def test_unknown_file_id_and_paths(
    tg: FakeTelegramServer, bot: Bot, clock: FakeClock
) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid file_id"):
        await bot.get_file("AgADnope")
    await tg.send_document(PRIVATE, b"hello", "a.txt")
    (message,) = await messages(bot)
    assert message.document is not None
    file = await bot.get_file(message.document.file_id)
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}/file/bot{DEFAULT_TOKEN}/{file.file_path}"
        async with http.get(url) as response:
            assert response.status == 200 and await response.read() == b"hello"
        async with http.get(
            f"{tg.base_url}/file/bot{DEFAULT_TOKEN}/documents/nope.txt"
        ) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.get(f"{tg.base_url}/file/bot1:wrong/{file.file_path}") as response:
            assert response.status == 401
        clock.now += 3601  # the link lives an hour; getFile gives a fresh one
        async with http.get(url) as response:
            assert response.status == 404
        await bot.get_file(message.document.file_id)
        async with http.get(url) as response:
            assert response.status == 200


async def test_photo_has_several_sizes_each_downloadable(tg: FakeTelegramServer, bot: Bot) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 50
    await tg.send_photo_file(PRIVATE, jpeg, caption="what is this @fake_llm_bot?")
    (message,) = await messages(bot)
    assert message.photo is not None and len(message.photo) == 4
    widths = [p.width for p in message.photo]
    assert widths == sorted(widths) and len({p.file_id for p in message.photo}) == 4
    assert message.caption_entities and message.caption_entities[0].type == "mention"
    assert await download(bot, message.photo[-1].file_id) == jpeg


async def test_album_items_share_a_media_group(tg: FakeTelegramServer, bot: Bot) -> None:
    ids = await tg.send_album(
        PRIVATE, [b"\xff\xd8\xffone", b"\xff\xd8\xfftwo", b"\xff\xd8\xffthree"]
    )
    album = await messages(bot)
    assert [m.message_id for m in album] == ids
    groups = {m.media_group_id for m in album}
    assert len(groups) == 1 and None not in groups
    assert all(m.caption is None for m in album)
    assert await download(bot, album[1].photo[-1].file_id) == b"\xff\xd8\xfftwo"  # type: ignore[index]


async def test_forward_origins_parse_as_aiogram_types(tg: FakeTelegramServer, bot: Bot) -> None:
    await tg.send_forward(PRIVATE, "hello from Anna", origin=origin_user(77, "Anna", "anna"))
    await tg.send_forward(PRIVATE, "psst", origin=origin_hidden_user("Hidden Name"))
    await tg.send_forward(PRIVATE, "group post", origin=origin_chat(-100500, "Club", "Bob"))
    await tg.send_forward(PRIVATE, "news", origin=origin_channel(-1009, "News", 321, "news"))
    user, hidden, chat, channel = (m.forward_origin for m in await messages(bot))
    assert isinstance(user, MessageOriginUser) and user.sender_user.username == "anna"
    assert isinstance(hidden, MessageOriginHiddenUser) and hidden.sender_user_name == "Hidden Name"
    assert isinstance(chat, MessageOriginChat) and chat.sender_chat.title == "Club"
    assert chat.author_signature == "Bob"
    assert isinstance(channel, MessageOriginChannel) and channel.chat.username == "news"
    assert channel.message_id == 321


async def test_other_kinds_parse(tg: FakeTelegramServer, bot: Bot) -> None:
    await tg.send_sticker(PRIVATE)
    await tg.send_voice(PRIVATE)
    await tg.send_video_note(PRIVATE)
    await tg.send_location(PRIVATE, 59.93, 30.31)
    await tg.send_poll(PRIVATE, "Tea or coffee?", ("Tea", "Coffee"))
    sticker, voice, note, location, poll = await messages(bot)
    assert sticker.sticker is not None and voice.voice is not None
    assert note.video_note is not None and note.video_note.length == 240
    assert location.location is not None and location.location.latitude == 59.93
    assert poll.poll is not None and [o.text for o in poll.poll.options] == ["Tea", "Coffee"]
