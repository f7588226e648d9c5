"""Issue 22: the voice kind's declaration and its pure rules (limits, names, hints)."""

from __future__ import annotations

from bot.core.voice import (
    Sound,
    VoiceLimits,
    language_hint,
    refusal,
    shown_transcript,
    speech_cost,
    spoken_text,
    upload_name,
)
from bot.telegram.input_kinds import DOCUMENT, KINDS, PHOTO, carried_fields
from bot.telegram.texts import catalog_path, read_catalog


def test_every_kinds_texts_are_in_both_catalogs() -> None:
    for lang in ("en", "ru"):
        catalog = read_catalog(catalog_path(lang))
        for kind in KINDS:
            for key in (*kind.texts, *([kind.off] if kind.off else [])):
                assert catalog.get(key) is not None, (lang, kind.name, key)


def test_a_kind_that_is_off_is_not_in_the_filter() -> None:
    assert "voice" in carried_fields(KINDS) and "video_note" in carried_fields(KINDS)
    off = carried_fields((DOCUMENT, PHOTO))
    assert off == ("document", "photo")


def test_upload_names_have_extensions_openai_accepts() -> None:
    assert upload_name(Sound("voice", "f", 3, mime_type="audio/ogg")) == "voice.ogg"
    assert upload_name(Sound("video_note", "f", 3)) == "video.mp4"
    assert upload_name(Sound("audio", "f", 3, None, "audio/mpeg", "song.MP3")) == "audio.mp3"
    assert upload_name(Sound("audio", "f", 3, None, "audio/x-m4a", "memo")) == "audio.m4a"
    assert upload_name(Sound("audio", "f", 3, None, "audio/x-ms-wma", "a.wma")) is None


def test_limits_are_checked_before_anything_is_downloaded() -> None:
    limits = VoiceLimits(max_seconds=300, max_bytes=20 << 20)
    assert refusal(Sound("voice", "f", 301), limits) == "too_long"
    assert refusal(Sound("voice", "f", 300, file_size=(20 << 20) + 1), limits) == "too_big"
    assert refusal(Sound("audio", "f", 10, None, "audio/x-ms-wma", "a.wma"), limits) == "format"
    assert refusal(Sound("voice", "f", 300, file_size=20 << 20), limits) is None


def test_language_hints_and_spoken_text() -> None:
    assert [language_hint(c) for c in ("ru", "pt-br", "", None, "x-klingon")] == [
        "ru", "pt", None, None, None,
    ]  # fmt: skip
    assert spoken_text("hello", "caption").splitlines()[1:] == ["hello", "caption"]
    assert abs(speech_cost(90, 0.006) - 0.009) < 1e-12
    shown, folded = shown_transcript("x" * 5000)
    assert folded and len(shown) == 3501


def test_the_transcription_key_is_redacted_from_logs() -> None:
    from bot.config import Settings
    from bot.logging_setup import Redactor

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token="123456:AAH-test-token-value",
        gonka_api_key="gonka-key",
        transcribe_api_key="sk-whisper-secret-1234",
    )
    assert "sk-whisper-secret-1234" in settings.secrets()
    assert "sk-whisper-secret-1234" not in Redactor(settings.secrets())(
        "key=sk-whisper-secret-1234"
    )
