"""DATA_DIR that takes no writes: a read-only mount, a full disk. Root writes through chmod, so
the writes are made to fail by the kernel: RLIMIT_FSIZE (every write past the limit fails with
EFBIG, for root too) in a child process, and, where user namespaces allow it, a real read-only
bind mount (`unshare -rm`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOUND = 120  # seconds a child may take (imports are slow on a loaded machine)

# Lowers RLIMIT_FSIZE to `limit` bytes (SIGXFSZ ignored: the write fails with EFBIG instead).
_LIMIT = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
_, HARD = resource.getrlimit(resource.RLIMIT_FSIZE)
def limit(size):
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, HARD))
"""

_BUILD_STORE = """
import sys
from pathlib import Path
from bot.app import build_store
from bot.config import Settings
from bot.startup import StartupError
{prepare}
try:
    build_store(Settings(_env_file=None, bot_token="1:x", gonka_api_key="k",
                         data_dir=Path(sys.argv[1])))
except StartupError as exc:
    print(exc)
    sys.exit(3)
print("started")
"""


def _python(
    script: str, *args: str, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-c", script, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=BOUND,
        env={"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_a_data_dir_that_takes_no_writes_stops_the_start_with_one_line(tmp_path: Path) -> None:
    """The directory exists and reads fine; only writes fail. Before, the bot started, answered
    for hours and lost everything at the stop."""
    script = _BUILD_STORE.format(prepare=_LIMIT + "limit(0)")
    done = _python(script, str(tmp_path))
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f"DATA_DIR={tmp_path}: File too large. Set DATA_DIR to a writable directory "
        "(or REDIS_URL to a Redis server)."
    ]


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="no user and mount namespaces here")
def test_a_read_only_mount_stops_the_start_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    read_only = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"'
    script = _BUILD_STORE.format(prepare="")
    done = _python(
        script, str(data), prefix=("unshare", "-rm", "sh", "-c", read_only, "sh", str(data))
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f"DATA_DIR={data}: Read-only file system. Set DATA_DIR to a writable directory "
        "(or REDIS_URL to a Redis server)."
    ]


_SAVES_FAIL_THEN_RECOVER = """
import asyncio, json, logging, sqlite3, sys
from pathlib import Path
from bot.adapters.embedded_store import EmbeddedStore
from bot.adapters.store_file import StoreNotSaved

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
data = Path(sys.argv[1])

def on_disk():
    with sqlite3.connect(data / "store.sqlite3") as db:
        return {bytes(k).decode() for (k,) in db.execute("SELECT key FROM keys")}

async def until(condition):
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")

async def main():
    store = EmbeddedStore(data, interval=0.02)
    store.load()
    told = []
    async def tell():
        told.append(1)
    store.start(tell)
    await store.client.set("before", "1")
    await until(lambda: "before" in on_disk())
    limit(1)  # the disk is full from now on
    await store.client.set("during", "2")
    await until(lambda: len(told) >= 3)  # failed, failed again: each time the admins are told
    limit(HARD)  # space again
    await until(lambda: "during" in on_disk())  # kept for the next save, not dropped
    await store.client.set("at stop", "3")
    limit(1)
    try:
        await store.close()
    except StoreNotSaved as exc:
        print(json.dumps({"told": len(told), "not_saved": str(exc), "disk": sorted(on_disk())}))

asyncio.run(main())
"""


def test_failed_saves_are_retried_told_and_fail_the_stop(tmp_path: Path) -> None:
    done = _python(_LIMIT + _SAVES_FAIL_THEN_RECOVER, str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["told"] >= 3
    assert result["disk"] == ["before", "during"]
    assert result["not_saved"] == (
        f"DATA_DIR={tmp_path}: the last save failed (disk I/O error): 1 changed keys are lost"
    )
    errors = [line for line in done.stderr.splitlines() if "embedded store not saved" in line]
    assert len(errors) == 2  # one when saves started failing, one at the stop: not one per save
    assert "saved again after" in done.stderr


def test_a_failed_last_save_is_one_line_and_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, the stop logged a traceback or nothing and `python -m bot` exited 0."""
    import bot.__main__ as entry
    from bot import logging_setup
    from bot.adapters.store_file import StoreNotSaved

    async def serve(settings: object) -> None:
        raise StoreNotSaved(
            "DATA_DIR=/data: the last save failed (disk I/O error): 3 changed keys are lost"
        )

    monkeypatch.setattr(entry, "serve", serve)
    monkeypatch.setattr(logging_setup, "configure_logging", lambda *args: str)  # no handlers
    for name, value in {"BOT_TOKEN": "1:x", "GONKA_API_KEY": "k", "REDIS_URL": ""}.items():
        monkeypatch.setenv(name, value)
    assert entry.main([]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "error: DATA_DIR=/data: the last save failed (disk I/O error): 3 changed keys are lost"
    )
