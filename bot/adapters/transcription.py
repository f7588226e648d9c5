"""The transcription endpoint through the openai SDK (`audio.transcriptions.create`): one
OpenAI-compatible /audio/transcriptions server, hosted or local (faster-whisper, whisper.cpp)."""

from __future__ import annotations

import asyncio
import io
import logging

import openai
from openai import AsyncOpenAI, Timeout

from bot.core.voice import TranscriptionFailed

log = logging.getLogger(__name__)

DEADLINE = 30.0  # everything, retries included: the user hears back by then
CONCURRENT = 4  # transcriptions at once; more wait (inside their deadline)


class WhisperTranscriber:
    """Sends a file as it is (no transcoding) and returns the text heard."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        deadline: float = DEADLINE,
        concurrent: int = CONCURRENT,
    ) -> None:
        self._client = client
        self._model = model
        self._deadline = deadline
        self._slots = asyncio.Semaphore(concurrent)

    async def transcribe(self, data: bytes, file_name: str, language: str | None) -> str:
        """The transcript; TranscriptionFailed on an error, a timeout or an empty text."""
        upload = (file_name, io.BytesIO(data))
        try:
            async with asyncio.timeout(self._deadline), self._slots:
                if language:
                    result = await self._client.audio.transcriptions.create(
                        model=self._model, file=upload, language=language
                    )
                else:
                    result = await self._client.audio.transcriptions.create(
                        model=self._model, file=upload
                    )
        except TimeoutError as exc:
            log.warning("transcription timed out after %.0fs", self._deadline)
            raise TranscriptionFailed("timeout") from exc
        except openai.APIError as exc:
            log.warning("transcription failed error=%s", type(exc).__name__)
            raise TranscriptionFailed(type(exc).__name__) from exc
        text = (result.text or "").strip()
        if not text:
            raise TranscriptionFailed("empty")
        return text

    async def aclose(self) -> None:
        """Close the endpoint's HTTP client."""
        await self._client.close()


def build_transcriber(
    base_url: str,
    api_key: str | None,
    model: str,
    deadline: float = DEADLINE,
    concurrent: int = CONCURRENT,
) -> WhisperTranscriber:
    """A client of its own: one retry, and a request timeout that leaves room for it."""
    client = AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or "none",  # a local server takes any key; the SDK needs one
        max_retries=1,
        timeout=Timeout(deadline / 2, connect=5.0),
    )
    return WhisperTranscriber(client, model, deadline, concurrent)
