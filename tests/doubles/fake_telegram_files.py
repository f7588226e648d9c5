"""Files and non-text updates for the fake Telegram Bot API.

- ``FileStore`` serves ``getFile`` and ``GET /file/bot<token>/<file_path>`` with real bytes and
  Telegram's limits: bots may download files up to 20 MB (``getFile`` answers 400 "Bad Request:
  file is too big" above it); ``invalid file_id`` for an unknown id; a download link is valid for
  an hour; unknown paths answer 404 {"ok": false, "error_code": 404, "description": "Not Found"}.
- ``InputUpdates`` (a mixin of FakeTelegramServer) sends document, photo (several PhotoSize), album
  (``media_group_id``), forward (``forward_origin`` of Bot API 7+: user, hidden_user, chat,
  channel), video note, location and poll updates; sticker and voice are in the server itself.
"""

from __future__ import annotations

import itertools
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.doubles.fake_telegram_limits import bad_request

Json = dict[str, Any]

DOWNLOAD_LIMIT = 20 * 1024 * 1024
LINK_TTL = 3600.0  # "the link will be valid for at least 1 hour"
NOT_FOUND: Json = {"ok": False, "error_code": 404, "description": "Not Found"}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    size: int | None  # what Telegram reports (a test may announce another size, or none)
    folder: str  # "documents", "photos", "voice", "video_notes", ...
    suffix: str
    path: str | None = None
    path_issued_at: float = 0.0

    def as_json(self) -> Json:
        json: Json = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.size is not None:
            json["file_size"] = self.size
        return json


class FileStore:
    """The files users sent, by file_id; the server's ``getFile`` and download path."""

    def __init__(self, token: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.clock = clock
        self.files: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self.downloads: list[str] = []  # file paths served, in order
        self.sent_bytes: dict[str, int] = {}  # bytes written per path (a client may stop early)
        self.sending = 0  # downloads still being written
        self._ids = itertools.count(1)

    def add(
        self,
        data: bytes,
        *,
        folder: str,
        suffix: str = "",
        size: int | None = None,
        announced: bool = True,
    ) -> StoredFile:
        n = next(self._ids)
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{n:06d}-{folder}",
            file_unique_id=f"AgAD{n:06d}",
            data=data,
            size=(len(data) if size is None else size) if announced else None,
            folder=folder,
            suffix=suffix,
        )
        self.files[stored.file_id] = stored
        return stored

    async def get_file(self, params: Json) -> Json:
        file_id = params.get("file_id")
        if not file_id:
            raise bad_request("file_id not specified")  # [inf] text
        stored = self.files.get(str(file_id))
        if stored is None:
            raise bad_request("invalid file_id")
        if (len(stored.data) if stored.size is None else stored.size) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        if stored.path is None:
            stored.path = f"{stored.folder}/file_{len(self.by_path)}{stored.suffix}"
            self.by_path[stored.path] = stored
        stored.path_issued_at = self.clock()
        return {**stored.as_json(), "file_path": stored.path}

    async def download(self, request: web.Request) -> web.StreamResponse:
        rest = request.match_info["path"]
        token, _, path = rest[3:].partition("/") if rest.startswith("bot") else ("", "", "")
        if token != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(body, status=401)
        stored = self.by_path.get(path)
        if stored is None or self.clock() - stored.path_issued_at > LINK_TTL:
            return web.json_response(NOT_FOUND, status=404)
        self.downloads.append(path)
        return await self._send(request, path, stored.data)

    async def _send(self, request: web.Request, path: str, data: bytes) -> web.StreamResponse:
        """The file in 64 KiB writes, counted: a client that stops reading stops the count."""
        response = web.StreamResponse(
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        )
        self.sending += 1
        self.sent_bytes[path] = 0
        try:
            await response.prepare(request)
            for start in range(0, len(data), 64 * 1024):
                piece = data[start : start + 64 * 1024]
                await response.write(piece)
                self.sent_bytes[path] += len(piece)
            await response.write_eof()
        except ConnectionError:
            pass  # the client closed the connection
        finally:
            self.sending -= 1
        return response


def origin_user(user_id: int, first_name: str, username: str | None = None, date: int = 0) -> Json:
    user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        user["username"] = username
    return {"type": "user", "date": date or int(time.time()) - 60, "sender_user": user}


def origin_hidden_user(name: str, date: int = 0) -> Json:
    return {"type": "hidden_user", "date": date or int(time.time()) - 60, "sender_user_name": name}


def origin_chat(chat_id: int, title: str, signature: str | None = None, date: int = 0) -> Json:
    origin: Json = {"type": "chat", "date": date or int(time.time()) - 60,
                    "sender_chat": {"id": chat_id, "type": "supergroup", "title": title}}  # fmt: skip
    if signature:
        origin["author_signature"] = signature
    return origin


def origin_channel(
    chat_id: int, title: str, message_id: int, username: str | None = None, date: int = 0
) -> Json:
    chat: Json = {"id": chat_id, "type": "channel", "title": title}
    if username:
        chat["username"] = username
    return {"type": "channel", "date": date or int(time.time()) - 60, "chat": chat,
            "message_id": message_id}  # fmt: skip


class InputUpdates:
    """Update senders for what users send besides text. Mixed into FakeTelegramServer, which
    provides ``files`` and ``_user_message``."""

    files: FileStore
    _user_message: Callable[..., Any]
    _media_groups = itertools.count(13_000_000_000_000_000)

    def _caption(self, content: Json, caption: str | None) -> Json:
        from tests.doubles.fake_telegram import _detect_entities

        if caption:
            content["caption"] = caption
            entities = _detect_entities(caption)
            if entities:
                content["caption_entities"] = entities
        return content

    def new_media_group(self) -> str:
        return str(next(self._media_groups))

    async def send_document(
        self,
        chat_id: int,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        size: int | None = None,
        announced: bool = True,
        media_group_id: str | None = None,
        **kw: Any,
    ) -> int:
        """A user sends a file; ``size`` announces a size other than ``len(data)``, and
        ``announced=False`` leaves ``file_size`` out. Without ``mime_type`` it is guessed from
        the name, as Telegram does."""
        from tests.doubles.fake_telegram import _msg_kwargs

        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = self.files.add(
            data, folder="documents", suffix=suffix, size=size, announced=announced
        )
        document = {**stored.as_json(), "file_name": file_name}
        mime_type = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        document["mime_type"] = mime_type
        content = self._caption({"document": document}, caption)
        if media_group_id:
            content["media_group_id"] = media_group_id
        return int(await self._user_message(chat_id, content, **_msg_kwargs(kw)))

    def photo_sizes(self, data: bytes, sizes: tuple[int, ...] = (90, 320, 800, 1280)) -> list[Json]:
        """The PhotoSize array Telegram makes of one upload: one stored file per size."""
        out = []
        for width in sizes:
            stored = self.files.add(data, folder="photos", suffix=".jpg")
            out.append({**stored.as_json(), "width": width, "height": width * 3 // 4})
        return out

    async def send_photo_file(
        self,
        chat_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
        **kw: Any,
    ) -> int:
        """A photo whose sizes download as ``data`` (real bytes, e.g. a tiny JPEG)."""
        from tests.doubles.fake_telegram import _msg_kwargs

        content = self._caption({"photo": self.photo_sizes(data)}, caption)
        if media_group_id:
            content["media_group_id"] = media_group_id
        return int(await self._user_message(chat_id, content, **_msg_kwargs(kw)))

    async def send_album(
        self, chat_id: int, photos: list[bytes], *, caption: str | None = None, **kw: Any
    ) -> list[int]:
        """An album: one message per photo sharing a media_group_id; a caption sits on the first."""
        group = self.new_media_group()
        ids = []
        for index, data in enumerate(photos):
            text = caption if index == 0 else None
            ids.append(
                await self.send_photo_file(chat_id, data, caption=text, media_group_id=group, **kw)
            )
        return ids

    async def send_forward(self, chat_id: int, text: str, *, origin: Json, **kw: Any) -> int:
        """A forwarded text message (``origin`` from origin_user / _hidden_user / _chat / _channel)."""
        from tests.doubles.fake_telegram import _detect_entities, _msg_kwargs

        content: Json = {"text": text, "entities": _detect_entities(text), "forward_origin": origin}
        return int(await self._user_message(chat_id, content, **_msg_kwargs(kw)))

    async def send_video_note(self, chat_id: int, *, duration: int = 5, **kw: Any) -> int:
        from tests.doubles.fake_telegram import _msg_kwargs

        stored = self.files.add(b"\x00\x00\x00\x18ftypmp42", folder="video_notes", suffix=".mp4")
        note = {**stored.as_json(), "length": 240, "duration": duration}
        return int(await self._user_message(chat_id, {"video_note": note}, **_msg_kwargs(kw)))

    async def send_voice_file(
        self, chat_id: int, data: bytes, *, duration: int = 3, size: int | None = None, **kw: Any
    ) -> int:
        """A voice note whose file downloads as ``data`` (OGG/Opus; Telegram's path ends .oga)."""
        from tests.doubles.fake_telegram import _msg_kwargs

        stored = self.files.add(data, folder="voice", suffix=".oga", size=size)
        voice = {**stored.as_json(), "duration": duration, "mime_type": "audio/ogg"}
        content = self._caption({"voice": voice}, kw.pop("caption", None))
        return int(await self._user_message(chat_id, content, **_msg_kwargs(kw)))

    async def send_audio_file(
        self, chat_id: int, data: bytes, file_name: str, *, duration: int = 30, **kw: Any
    ) -> int:
        """An audio file (sent as music: ``audio``, with its name and mime type)."""
        from tests.doubles.fake_telegram import _msg_kwargs

        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = self.files.add(data, folder="music", suffix=suffix)
        mime = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        audio = {**stored.as_json(), "duration": duration, "file_name": file_name,
                 "mime_type": mime}  # fmt: skip
        return int(await self._user_message(chat_id, {"audio": audio}, **_msg_kwargs(kw)))

    async def send_location(
        self, chat_id: int, latitude: float = 55.7558, longitude: float = 37.6173, **kw: Any
    ) -> int:
        from tests.doubles.fake_telegram import _msg_kwargs

        location = {"latitude": latitude, "longitude": longitude}
        return int(await self._user_message(chat_id, {"location": location}, **_msg_kwargs(kw)))

    async def send_poll(
        self,
        chat_id: int,
        question: str = "Tea or coffee?",
        options: tuple[str, ...] = ("Tea", "Coffee"),
        **kw: Any,
    ) -> int:
        from tests.doubles.fake_telegram import _msg_kwargs

        poll = {
            "id": str(5_000_000_000_000_000_000 + chat_id % 1000),
            "question": question,
            "options": [{"persistent_id": f"o{n}", "text": text, "voter_count": 0}
                        for n, text in enumerate(options)],
            "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
            "allows_multiple_answers": False, "allows_revoting": True, "members_only": False,
        }  # fmt: skip
        return int(await self._user_message(chat_id, {"poll": poll}, **_msg_kwargs(kw)))
