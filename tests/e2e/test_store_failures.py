"""The embedded store's saves failing while the bot runs: users are answered, the admins are
told (once per ADMIN_ALERT_INTERVAL), and what changed is saved when writes work again."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.embedded_store import EmbeddedStore
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.core.models import ChatKey
from bot.telegram.texts import t
from tests.e2e.conftest import FAST, USER, EnvFactory

ADMIN = 9001


async def test_admins_are_told_once_and_nothing_is_lost(
    make_env: EnvFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with make_env(
        **FAST, data_dir=tmp_path, admin_ids=[ADMIN], snapshot_interval=0.05
    ) as env:
        store = env.app.embedded
        assert store is not None
        failures = [0]

        def read_only(*args: Any) -> None:
            failures[0] += 1
            raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(store.file, "write", read_only)
        env.app.start_store()
        await env.telegram.send_text(USER, "remember me", user_id=USER)
        await env.wait_replies(1)
        await env.telegram.wait_for(lambda: env.visible(ADMIN) and failures[0] >= 5, 30)
        await asyncio.sleep(0.2)  # more failed saves: no second message within the interval
        assert env.visible_texts(ADMIN) == [
            f"{t('admin_alert_store', 'en')}\n{t('admin_alert_store', 'ru')}"
        ]
        monkeypatch.undo()  # writable again: the stop saves what the failed saves kept
    again = EmbeddedStore(tmp_path)
    again.load()
    history = await RedisHistoryStore(again.client, RedisKeys("gonka")).load(ChatKey(USER))
    assert [m.content for m in history] == ["remember me", "Echo: remember me"]
    await again.close()
