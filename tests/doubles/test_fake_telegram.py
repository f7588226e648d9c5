"""Fast tests of the fake Telegram Bot API server, driven by a real aiogram Bot and raw HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
)

from tests.doubles.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer
from tests.doubles.fake_telegram_limits import FloodLimits
from tests.doubles.telegram_fixtures import FakeClock

PRIVATE = 4242
GROUP = -1001234567890


FAKE_CLOCK = True  # tests move `clock` by hand (tests/doubles/telegram_fixtures.py)


async def raw_call(tg: FakeTelegramServer, method: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{tg.base_url}/bot{tg.token}/{method}", **kw) as resp,
    ):
        return resp.status, await resp.json()


async def test_get_me_token_and_unknown_method(tg: FakeTelegramServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "fake_llm_bot" and me.id == 123456789 and me.is_bot
    assert me.can_read_all_group_messages is False
    with pytest.raises(TelegramUnauthorizedError):
        await Bot("1:wrong", session=bot.session).get_me()
    status, body = await raw_call(tg, "sendSticker", data={"chat_id": "1"})
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    status, body = await raw_call(tg, "getme")  # method names are case-insensitive
    assert status == 200 and body["result"]["first_name"] == "Fake LLM Bot"
    assert [c.status for c in tg.calls] == [200, 401, 404, 200]


async def test_json_body_and_form_fields_are_decoded(tg: FakeTelegramServer) -> None:
    markup = {"inline_keyboard": [[{"text": "Stop", "callback_data": "stop"}]]}
    status, body = await raw_call(
        tg, "sendMessage", json={"chat_id": PRIVATE, "text": "hi", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    status, body = await raw_call(
        tg,
        "sendMessage",
        data={"chat_id": str(PRIVATE), "text": "123", "reply_markup": '{"inline_keyboard": []}'},
    )
    assert status == 200 and body["result"]["text"] == "123"
    assert tg.calls_of("sendMessage")[1].params == {
        "chat_id": PRIVATE,
        "text": "123",
        "reply_markup": {"inline_keyboard": []},
    }
    assert [m.message_id for m in tg.bot_messages(PRIVATE)] == [1, 2]


async def test_long_poll_wakes_up_and_offset_confirms(tg: FakeTelegramServer, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5, allowed_updates=["message"]))
    await asyncio.sleep(0.1)
    assert not poll.done()
    msg_id = await tg.send_text(PRIVATE, "/start", username="alice")
    updates = await poll
    assert time.monotonic() - started < 1.5
    assert len(updates) == 1 and updates[0].message is not None
    message = updates[0].message
    assert message.message_id == msg_id and message.text == "/start"
    assert message.from_user is not None and message.from_user.username == "alice"
    assert message.entities and message.entities[0].type == "bot_command"
    assert tg.allowed_updates == ["message"]
    # not confirmed yet: delivered again; confirmed by offset: gone
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []
    # a timed-out poll returns an empty list
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_allowed_updates_filter_drops_unwanted_types(tg: FakeTelegramServer) -> None:
    await tg.send_text(PRIVATE, "hello")
    await tg.raw_update({"message_reaction": {"chat": {"id": 1, "type": "private"}}})
    status, body = await raw_call(tg, "getUpdates", data={"allowed_updates": '["callback_query"]'})
    assert status == 200 and body["result"] == []
    assert len(tg.dropped_updates) == 2


async def test_stop_cancels_waiting_poll_quickly(clock: FakeClock) -> None:
    server = await FakeTelegramServer(clock=clock).start()
    bot = server.make_bot()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await server.stop()
    assert await asyncio.wait_for(poll, 2) == []
    assert time.monotonic() - started < 2
    await bot.session.close()


async def test_text_limit_counts_utf16(tg: FakeTelegramServer, bot: Bot) -> None:
    await bot.send_message(PRIVATE, "😀" * 2048)  # 4096 UTF-16 code units
    await bot.send_message(PRIVATE, "a" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(PRIVATE, "😀" * 2048 + "a")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(PRIVATE, "  \n ")
    sent = await bot.send_message(PRIVATE, "<b>x</b>" * 1000 + "y" * 3000, parse_mode="HTML")
    assert sent.text is not None and len(sent.text) == 4000  # counted after entity parsing
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message_draft(PRIVATE, 7, text="😀" * 2049)


async def test_bad_entities_and_markup_are_refused(tg: FakeTelegramServer, bot: Bot) -> None:
    bold = MessageEntity(type="bold", offset=3, length=10)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(PRIVATE, "short", entities=[bold])
    overlap = [
        MessageEntity(type="bold", offset=0, length=4),
        MessageEntity(type="italic", offset=2, length=4),
    ]
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(PRIVATE, "abcdefgh", entities=overlap)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(
            PRIVATE, "x😀", entities=[MessageEntity(type="code", offset=1, length=1)]
        )
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(PRIVATE, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(PRIVATE, "1 < 2 & 3", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(PRIVATE, "*Done*.", parse_mode="MarkdownV2")
    ok = await bot.send_message(PRIVATE, "*Done*\\. `a.b`", parse_mode="MarkdownV2")
    assert ok.text == "Done. a.b"
    assert [(e.type, e.offset, e.length) for e in ok.entities or []] == [
        ("bold", 0, 4),
        ("code", 6, 3),
    ]
    html = await bot.send_message(
        PRIVATE, '<a href="https://x.org">x</a> 😀<i>é</i>', parse_mode="HTML"
    )
    assert [(e.type, e.offset, e.length) for e in html.entities or []] == [
        ("text_link", 0, 1),
        ("italic", 4, 1),
    ]
    nested = [
        MessageEntity(type="bold", offset=0, length=8),
        MessageEntity(type="code", offset=2, length=3),
    ]
    assert (await bot.send_message(PRIVATE, "abcdefgh", entities=nested)).entities
    assert len(tg.bot_messages(PRIVATE)) == 3


async def test_edits_not_modified_and_not_found(tg: FakeTelegramServer, bot: Bot) -> None:
    tg.limits = FloodLimits.off()
    kb = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Stop", callback_data="s")]]
    )
    sent = await bot.send_message(PRIVATE, "Hello", reply_markup=kb)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Hello", chat_id=PRIVATE, message_id=sent.message_id, reply_markup=kb
        )
    # Telegram drops the keyboard when an edit omits reply_markup: that is a modification
    edited = await bot.edit_message_text("Hello", chat_id=PRIVATE, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None
    edited = await bot.edit_message_text("Hello!", chat_id=PRIVATE, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.edit_date is not None
    assert tg.last_bot_text(PRIVATE) == "Hello!"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=PRIVATE, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.edit_message_text(" ", chat_id=PRIVATE, message_id=sent.message_id)
    user_msg = await tg.send_text(PRIVATE, "mine")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=PRIVATE, message_id=user_msg)
    assert await bot.delete_message(PRIVATE, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(PRIVATE, sent.message_id)


async def test_flood_control_private_burst_and_penalty(
    tg: FakeTelegramServer, bot: Bot, clock: FakeClock
) -> None:
    tg.limits = FloodLimits(private_burst=3, private_rate=1.0)
    for i in range(3):
        await bot.send_message(PRIVATE, f"m{i}")
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(PRIVATE, "too fast")
    assert err.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in err.value.message
    await bot.send_message(PRIVATE + 1, "another chat is fine")
    clock.now += 0.5  # still inside the penalty: edits in that chat are refused too
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text("x", chat_id=PRIVATE, message_id=1)
    clock.now += 0.6
    await bot.send_message(PRIVATE, "after waiting")
    assert tg.count_429 == 2
    body = next(c for c in tg.calls if c.status == 429)
    assert body.description == "Too Many Requests: retry after 1"


async def test_flood_control_groups_and_strict(
    tg: FakeTelegramServer, bot: Bot, clock: FakeClock
) -> None:
    for i in range(20):
        await bot.send_message(GROUP, f"g{i}")
        clock.now += 1.0
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(GROUP, "21st in a minute")
    assert err.value.retry_after == 40
    tg.limits = FloodLimits.strict(calls=1, period=2.0)
    await bot.send_message(PRIVATE, "one")
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(PRIVATE, "two")
    assert err.value.retry_after == 2
    tg.limits = FloodLimits.off()
    for i in range(50):
        await bot.send_message(PRIVATE, f"burst {i}")


async def test_drafts(tg: FakeTelegramServer, bot: Bot, clock: FakeClock) -> None:
    assert await bot.send_message_draft(PRIVATE, 5, text="")  # "Thinking…" placeholder
    assert await bot.send_message_draft(
        PRIVATE, 5, text="<b>Part</b>", parse_mode="HTML", can_stop=True
    )
    draft = tg.draft(PRIVATE, 5)
    assert draft is not None and draft.text == "Part" and draft.can_stop and draft.updates == 2
    with pytest.raises(TelegramBadRequest, match="TEXTDRAFT_PEER_INVALID"):
        await bot.send_message_draft(GROUP, 5, text="x")
    with pytest.raises(TelegramBadRequest, match="RANDOM_ID_INVALID"):
        await bot.send_message_draft(PRIVATE, 0, text="x")
    await bot.send_message(PRIVATE, "Part and the rest")
    assert tg.draft(PRIVATE, 5) is None  # a sent message ends the draft
    # drafts + chat actions: 20 per 5 s per chat
    for _ in range(18):
        await bot.send_chat_action(PRIVATE, "typing")
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message_draft(PRIVATE, 6, text="x")
    assert err.value.retry_after == 5
    clock.now += 5
    await bot.send_message_draft(PRIVATE, 6, text="x")
    tg.drafts_enabled = False
    with pytest.raises(TelegramBadRequest, match="TEXTDRAFT_PEER_INVALID"):
        await bot.send_message_draft(PRIVATE, 6, text="y")


async def test_buttons_callbacks_and_replies(
    tg: FakeTelegramServer, bot: Bot, clock: FakeClock
) -> None:
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")
    kb = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="M", callback_data="model:1")]]
    )
    sent = await bot.send_message(GROUP, "Pick", reply_markup=kb)
    query_id = await tg.press_button(GROUP, sent.message_id, "model:1", user_id=7)
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "model:1"
    assert isinstance(query.message, Message) and query.message.text == "Pick"
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    late = await tg.press_button(GROUP, sent.message_id, "model:1")
    clock.now += 16
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(late)
    # a user replies to the bot; the bot replies to the user
    mid = await tg.send_text(
        GROUP, "why?", chat_type="supergroup", reply_to_message_id=sent.message_id
    )
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    msg = updates[-1].message
    assert msg is not None and msg.reply_to_message is not None
    assert msg.reply_to_message.from_user is not None and msg.reply_to_message.from_user.is_bot
    answer = await bot.send_message(
        GROUP, "because", reply_parameters=ReplyParameters(message_id=mid)
    )
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "why?"
    assert tg.bot_messages(GROUP)[-1].reply_to_message_id == mid
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(GROUP, "x", reply_parameters=ReplyParameters(message_id=999))
    await tg.send_sticker(PRIVATE)
    await tg.send_photo(PRIVATE, caption="look")
    await tg.send_voice(PRIVATE)
    kinds = [u.message.content_type for u in await bot.get_updates(offset=-3) if u.message]
    assert kinds == ["sticker", "photo", "voice"]


async def test_failure_injection(tg: FakeTelegramServer, bot: Bot) -> None:
    tg.fail_next("sendMessage", status=500, description="Internal Server Error")
    with pytest.raises(TelegramServerError):
        await bot.send_message(PRIVATE, "a")
    tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(PRIVATE, "a")
    assert err.value.retry_after == 7 and tg.count_429 == 1
    tg.fail_next("editMessageText", status=400, description="Bad Request: can't parse entities: x")
    tg.fail_next("sendMessage", status=502, description="Bad Gateway", after_apply=True)
    with pytest.raises(TelegramServerError):
        await bot.send_message(PRIVATE, "sent anyway")
    assert tg.last_bot_text(PRIVATE) == "sent anyway"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.edit_message_text("y", chat_id=PRIVATE, message_id=1)
    tg.delay_next("sendChatAction", 0.3)
    started = time.monotonic()
    await bot.send_chat_action(PRIVATE, "typing")
    assert time.monotonic() - started >= 0.3
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(-5)
    await tg.send_text(-5, "hi", chat_type="group", chat_title="Team")
    chat = await bot.get_chat(-5)
    assert chat.type == "group" and chat.title == "Team"


async def test_dispatcher_polling_end_to_end(tg: FakeTelegramServer, bot: Bot) -> None:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.reply(f"echo: {message.text}")

    @router.stopped_message_generation()
    async def stopped(event: Any) -> None:
        await bot.send_message(event.chat.id, f"stopped {event.draft_id}")

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        mid = await tg.send_text(PRIVATE, "ping")
        await tg.wait_for(lambda: tg.last_bot_text(PRIVATE) == "echo: ping", timeout=5)
        assert tg.bot_messages(PRIVATE)[-1].reply_to_message_id == mid
        assert await bot.send_message_draft(PRIVATE, 9, text="partial", can_stop=True)
        with pytest.raises(ValueError):
            await tg.stop_generation(PRIVATE, 10)
        await tg.stop_generation(PRIVATE, 9)
        await tg.wait_for(lambda: tg.last_bot_text(PRIVATE) == "stopped 9", timeout=5)
        assert "stopped_message_generation" in (tg.allowed_updates or [])
        assert {"getMe", "getUpdates"} <= {c.method for c in tg.calls}
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


async def test_commands_webhook_and_conflict(tg: FakeTelegramServer, bot: Bot) -> None:
    from aiogram.types import BotCommand

    assert await bot.set_my_commands([BotCommand(command="model", description="Pick a model")])
    assert [c.command for c in await bot.get_my_commands()] == ["model"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Exception, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(Exception, match="terminated by other getUpdates request"):
        await first
    await tg.send_text(PRIVATE, "wake up")
    assert len(await second) == 1
    assert DEFAULT_TOKEN.startswith("123456789:")


async def test_webhook_delivery_in_order_retried_until_2xx_with_the_secret() -> None:
    seen: list[tuple[int, str]] = []
    answers = iter([500, 200, 200])

    async def receive(request: aiohttp.web.Request) -> aiohttp.web.Response:
        update = await request.json()
        seen.append((update["update_id"], request.headers["X-Telegram-Bot-Api-Secret-Token"]))
        return aiohttp.web.Response(status=next(answers))

    app = aiohttp.web.Application()
    app.router.add_post("/hook", receive)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with FakeTelegramServer() as tg:
            tg.webhook_retry_delay = 0.01
            bot = tg.make_bot()
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
            await tg.send_text(PRIVATE, "one")
            await tg.send_text(PRIVATE, "two")
            await tg.wait_for(lambda: len(seen) == 3)
            with pytest.raises(TelegramConflictError, match="webhook is active"):
                await bot.get_updates()
            await bot.session.close()
        ids = [update_id for update_id, _ in seen]
        assert ids[0] == ids[1] and ids[2] == ids[0] + 1  # the failed one again, then the next
        assert {secret for _, secret in seen} == {"abc"}
        assert [status for _, status in tg.webhook_posts] == [500, 200, 200]
    finally:
        await runner.cleanup()
