"""Issue 22 end to end: voice notes transcribed by a fake endpoint on 127.0.0.1, then answered."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_usage import RedisUsageStore
from bot.telegram.texts import t
from tests.doubles.fake_gonka import Reply
from tests.doubles.fake_whisper import FakeWhisper
from tests.doubles.qwen_tokens import content_text
from tests.e2e.conftest import USER, Env, EnvFactory
from tests.e2e.test_inputs import GROUP, QUIET, settled

OTHER = 2002
OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"opus-voice-bytes"


@contextlib.asynccontextmanager
async def voice_env(
    make_env: EnvFactory, **overrides: Any
) -> AsyncIterator[tuple[Env, FakeWhisper]]:
    async with FakeWhisper() as whisper:
        settings = {
            **QUIET,
            "transcribe_base_url": whisper.base_url,
            "transcribe_api_key": whisper.api_key,
            **overrides,
        }
        async with make_env(**settings) as env:
            yield env, whisper


async def test_a_voice_note_is_transcribed_shown_and_answered(make_env: EnvFactory) -> None:
    async with voice_env(make_env) as (env, whisper):
        whisper.transcript = "Какая столица Франции?"
        env.gonka.enqueue(Reply(text="Париж."))
        await env.telegram.send_voice_file(USER, OGG, duration=4, language_code="ru")
        await env.wait_replies(2)
        await settled(env)
        [call] = whisper.requests
        assert call.authorization == f"Bearer {whisper.api_key}"
        assert (call.model, call.language, call.file_name) == ("whisper-1", "ru", "voice.ogg")
        assert call.data == OGG  # untranscoded
        asked = content_text(env.upstream_messages()[-1]["content"])
        assert "Какая столица Франции?" in asked and "voice message" in asked
        quote, answer = env.visible()
        assert quote.text == t("voice_transcript", "ru") + "\nКакая столица Франции?"
        assert [e["type"] for e in quote.entities] == ["blockquote"]
        assert answer.text == "Париж."
        store = RedisUsageStore(env.app.redis, RedisKeys(env.app.settings.redis_key_prefix))
        today, _month, _all = await store.speech_seconds(("user", USER), datetime.now(UTC))
        assert today == 4  # counted for /usage and /stats
        await env.telegram.send_text(USER, "/usage", language_code="ru")
        await env.wait_replies(3)
        assert t("usage_speech", "ru", minutes=1, cost=0.0) in env.visible_texts()[-1]


async def test_stats_shows_the_bots_minutes_and_their_cost(make_env: EnvFactory) -> None:
    overrides = {"transcribe_price_per_minute": 0.5, "admin_ids": str(USER)}
    async with voice_env(make_env, **overrides) as (env, _whisper):
        env.gonka.enqueue(Reply(text="Ok."))
        await env.telegram.send_voice_file(USER, OGG, duration=90)
        await env.wait_replies(2)
        await env.telegram.send_text(USER, "/stats")
        await env.wait_replies(3)
        assert t("usage_speech", "en", minutes=2, cost=0.75) in env.visible_texts()[-1]


async def test_a_long_transcript_is_an_expandable_quote(make_env: EnvFactory) -> None:
    async with voice_env(make_env) as (env, whisper):
        whisper.transcript = "word " * 200
        env.gonka.enqueue(Reply(text="Noted."))
        await env.telegram.send_voice_file(USER, OGG, duration=60)
        await env.wait_replies(2)
        assert [e["type"] for e in env.visible()[0].entities] == ["expandable_blockquote"]


async def test_a_note_over_the_limit_is_refused_without_a_call(make_env: EnvFactory) -> None:
    async with voice_env(make_env, transcribe_max_seconds=60) as (env, whisper):
        await env.telegram.send_voice_file(USER, OGG, duration=61)
        await env.wait_replies(1)
        await settled(env)
        assert env.visible_texts() == [t("voice_too_long", "en", seconds=60)]
        assert "60 seconds" in env.visible_texts()[0]
        assert whisper.requests == [] and env.gonka.completion_calls == 0
        assert env.telegram.files.downloads == []


async def test_an_endpoint_failure_is_told_and_calls_no_model(make_env: EnvFactory) -> None:
    async with voice_env(make_env) as (env, whisper):
        whisper.status = 500
        await env.telegram.send_voice_file(USER, OGG, duration=3)
        await env.wait_replies(1)
        await settled(env)
        assert env.visible_texts() == [t("voice_failed", "en")]
        assert env.gonka.completion_calls == 0
        assert 1 <= len(whisper.requests) <= 2  # one retry at most


async def test_an_empty_transcript_is_told_and_calls_no_model(make_env: EnvFactory) -> None:
    async with voice_env(make_env) as (env, whisper):
        whisper.transcript = "  "
        await env.telegram.send_voice_file(USER, OGG, duration=3)
        await env.wait_replies(1)
        await settled(env)
        assert env.visible_texts() == [t("voice_failed", "en")]
        assert env.gonka.completion_calls == 0


async def test_without_an_endpoint_voice_stays_off(make_env: EnvFactory) -> None:
    async with make_env(**QUIET) as env:
        await env.telegram.send_voice_file(USER, OGG, duration=3)
        await env.wait_replies(1)
        await settled(env)
        assert env.visible_texts() == [t("input_voice", "en")]
        assert env.gonka.completion_calls == 0 and env.telegram.files.downloads == []


async def test_an_audio_file_keeps_an_accepted_extension(make_env: EnvFactory) -> None:
    async with voice_env(make_env) as (env, whisper):
        env.gonka.enqueue(Reply(text="A song."))
        await env.telegram.send_audio_file(USER, b"ID3\x03mp3-bytes", "Track 01.MP3")
        await env.wait_replies(2)
        assert whisper.requests[0].file_name == "audio.mp3"


async def test_a_voice_reply_to_the_bot_is_heard_in_a_group(make_env: EnvFactory) -> None:
    group: dict[str, Any] = {"chat_type": "supergroup", "chat_title": "Team"}
    async with voice_env(make_env) as (env, whisper):
        env.gonka.enqueue(Reply(text="Hi."), Reply(text="Paris."))
        await env.telegram.send_text(GROUP, "@fake_llm_bot hello", **group)
        await env.wait_replies(1, GROUP)
        await env.telegram.send_voice_file(GROUP, OGG, duration=2, **group)  # not called
        answer = env.visible(GROUP)[0].message_id
        await env.telegram.send_voice_file(
            GROUP, OGG, duration=2, reply_to_message_id=answer, **group
        )
        await env.wait_replies(3, GROUP)
        await settled(env)
        assert len(whisper.requests) == 1
        assert env.visible_texts(GROUP)[-1] == "Paris."


async def test_a_slow_endpoint_holds_up_no_other_user(make_env: EnvFactory) -> None:
    async with voice_env(make_env) as (env, whisper):
        whisper.delay = 2.0
        env.gonka.enqueue(Reply(text="Typed answer."), Reply(text="Voice answer."))
        await env.telegram.send_voice_file(USER, OGG, duration=3)
        await env.telegram.send_text(OTHER, "a typed question", user_id=OTHER)
        await env.wait_replies(1, OTHER)
        assert env.visible(USER) == []  # the voice note is still being transcribed
        await env.wait_replies(2)
        assert env.visible_texts()[-1] == "Voice answer."


async def test_a_voice_note_right_after_a_bare_mention_is_its_question(
    make_env: EnvFactory,
) -> None:
    group: dict[str, Any] = {"chat_type": "supergroup", "chat_title": "Team"}
    async with voice_env(make_env) as (env, whisper):
        env.gonka.enqueue(Reply(text="Paris."))
        await env.telegram.send_text(GROUP, "@fake_llm_bot", **group)
        await env.telegram.send_voice_file(GROUP, OGG, duration=2, **group)
        await env.wait_replies(2, GROUP)
        await settled(env)
        assert len(whisper.requests) == 1 and env.gonka.completion_calls == 1
        assert env.visible_texts(GROUP)[-1] == "Paris."
        assert whisper.transcript in content_text(env.upstream_messages()[-1]["content"])


async def test_the_gate_comes_before_the_transcription(make_env: EnvFactory) -> None:
    async with voice_env(make_env, flood_messages=1, flood_window=60) as (env, whisper):
        env.gonka.enqueue(Reply(text="One."))
        await env.telegram.send_text(USER, "a question")
        await env.wait_replies(1)
        await env.telegram.send_voice_file(USER, OGG, duration=3)  # over the flood limit
        await env.wait_replies(2)
        await settled(env)
        assert whisper.requests == [] and env.telegram.files.downloads == []
        assert env.gonka.completion_calls == 1


async def test_the_endpoints_client_is_closed_with_the_app(make_env: EnvFactory) -> None:
    async with voice_env(make_env) as (env, _whisper):
        transcriber = env.app.transcriber
        assert transcriber is not None
    assert transcriber._client.is_closed()
