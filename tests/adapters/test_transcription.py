"""Issue 22: the transcription adapter against the fake endpoint: the deadline holds, a slow
endpoint does not hold up anyone else, errors become TranscriptionFailed."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.transcription import build_transcriber
from bot.core.voice import TranscriptionFailed
from tests.doubles.fake_whisper import FakeWhisper


async def test_a_slow_endpoint_is_cut_at_the_deadline() -> None:
    async with FakeWhisper() as whisper:
        whisper.delay = 5.0
        transcriber = build_transcriber(whisper.base_url, whisper.api_key, "whisper-1", 0.5)
        with pytest.raises(TranscriptionFailed) as failed:
            await transcriber.transcribe(b"OggS", "voice.ogg", None)
        assert failed.value.reason == "timeout"


async def test_a_wrong_key_and_a_refused_name_fail_in_words() -> None:
    async with FakeWhisper() as whisper:
        wrong = build_transcriber(whisper.base_url, "sk-wrong", "whisper-1", 5)
        with pytest.raises(TranscriptionFailed):
            await wrong.transcribe(b"OggS", "voice.ogg", "en")
        right = build_transcriber(whisper.base_url, whisper.api_key, "whisper-1", 5)
        with pytest.raises(TranscriptionFailed):
            await right.transcribe(b"OggS", "voice.oga", "en")  # what some servers refuse
        assert await right.transcribe(b"OggS", "voice.ogg", "en") == whisper.transcript
        assert whisper.requests[-1].language == "en"


async def test_calls_beyond_the_slots_wait_inside_their_deadline() -> None:
    async with FakeWhisper() as whisper:
        whisper.delay = 0.3
        transcriber = build_transcriber(whisper.base_url, whisper.api_key, "whisper-1", 5, 2)
        results = await asyncio.gather(
            *(transcriber.transcribe(b"OggS", "voice.ogg", None) for _ in range(3))
        )
        assert results == [whisper.transcript] * 3
        assert whisper.most_in_flight == 2
