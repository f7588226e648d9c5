"""The embedded store's file under DATA_DIR: one SQLite database (the standard library's), one
row per key, written a changed key at a time.

Why SQLite and not an append-only journal of our own: a save writes only the keys that changed,
in one transaction that is atomic and durable at commit (WAL, synchronous=FULL: fsync'd), and
SQLite reuses the pages of rewritten and deleted keys, so the file needs no compaction pass and
no rule for a torn last record; a journal would write a little less per changed key (no page
granularity) but would need both, and a full second copy of the data while compacting.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

DB_NAME = "store.sqlite3"
LEGACY_NAME = "store.json"  # the whole-file snapshot of earlier versions: read once, then renamed

# A key's row: its name, type, when it expires (epoch ms, None: never) and its values.
Row = tuple[bytes, str, int | None, list[bytes]]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS keys (key BLOB PRIMARY KEY, kind TEXT NOT NULL, "
    "expires INTEGER, value BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS keys_expiry ON keys (expires) WHERE expires IS NOT NULL",
)
_UPSERT = (
    "INSERT INTO keys VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
    "SET kind = excluded.kind, expires = excluded.expires, value = excluded.value"
)


class StoreNotSaved(Exception):
    """The last save, at stop, failed: what changed since the last good save is lost.
    (Here, not in embedded_store: `python -m bot` catches it without importing fakeredis.)"""


class StoreUnreadable(ValueError):
    """A file under DATA_DIR that is not a store this bot can read."""


def pack(values: list[bytes]) -> bytes:
    """A key's values as one blob: each a 4-byte length and its bytes."""
    return b"".join(len(value).to_bytes(4, "big") + value for value in values)


def unpack(blob: bytes) -> list[bytes]:
    values, at = [], 0
    while at < len(blob):
        size = int.from_bytes(blob[at : at + 4], "big")
        values.append(blob[at + 4 : at + 4 + size])
        at += 4 + size
    return values


class StoreFile:
    """DATA_DIR/store.sqlite3. Used by one thread at a time (the saver, or start and stop)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DB_NAME
        self.legacy = data_dir / LEGACY_NAME
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        """Open (or create) the database; StoreUnreadable when it is not one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            for statement in _SCHEMA:
                db.execute(statement)
        except sqlite3.DatabaseError as exc:
            db.close()
            if isinstance(exc, sqlite3.OperationalError):  # cannot open or write: say why
                raise OSError(str(exc)) from exc
            raise StoreUnreadable(f"unreadable {DB_NAME}") from exc
        self._db = db

    def rows(self, now_ms: int) -> Iterator[Row]:
        """Every key that has not expired."""
        cursor = self._conn().execute(
            "SELECT key, kind, expires, value FROM keys WHERE expires IS NULL OR expires > ?",
            (now_ms,),
        )
        for key, kind, expires, value in cursor:
            yield bytes(key), kind, expires, unpack(value)

    def write(self, rows: Iterable[Row], deleted: Iterable[bytes], now_ms: int) -> None:
        """Write `rows`, remove `deleted` and the expired keys: one transaction, fsync'd."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(_UPSERT, ((k, kind, exp, pack(v)) for k, kind, exp, v in rows))
            db.executemany("DELETE FROM keys WHERE key = ?", ((key,) for key in deleted))
            db.execute("DELETE FROM keys WHERE expires <= ?", (now_ms,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT may have rolled back already
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise

    def legacy_rows(self) -> list[Row]:
        """The keys of an earlier version's store.json (none when there is no such file)."""
        if not self.legacy.exists():
            return []
        try:
            with self.legacy.open(encoding="utf-8", errors="surrogatepass") as file:
                data = json.load(file)
            return [
                (_raw(key), kind, expires, [_raw(v) for v in value])
                for key, kind, expires, value in data["keys"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreUnreadable(f"unreadable {LEGACY_NAME}") from exc

    def retire_legacy(self) -> Path:
        """Rename store.json once its keys are in the database (kept, not deleted)."""
        done = self.legacy.with_name(LEGACY_NAME + ".migrated")
        os.replace(self.legacy, done)
        return done

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the store file is not open")
        return self._db


def _raw(text: str) -> bytes:
    # store.json kept bytes that are not UTF-8 as lone surrogates.
    return text.encode("utf-8", "surrogateescape")
