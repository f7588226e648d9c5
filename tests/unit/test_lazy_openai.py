"""bot.lazy_openai: openai's type packages run their __init__ on first use, and bind what they did."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot import lazy_openai

ROOT = Path(__file__).resolve().parents[2]

# Every package under openai.types, imported and complete: its public names and what they are.
NAMES = """
import importlib, json, pkgutil, sys, types
import openai.types
names = {}
for info in pkgutil.walk_packages(openai.types.__path__, "openai.types."):
    if info.ispkg:
        importlib.import_module(info.name)
for name in sorted(n for n in sys.modules if n == "openai.types" or n.startswith("openai.types.")):
    package = sys.modules[name]
    if hasattr(package, "__path__"):
        getattr(package, "__all__", None)  # a pending package runs its __init__ here
        names[name] = sorted(
            f"{k}=module" if isinstance(v, types.ModuleType)
            else f"{k}={getattr(v, '__qualname__', type(v).__name__)}"
            for k, v in vars(package).items() if not k.startswith("_")
        )
print(json.dumps(names))
"""


def run(code: str) -> str:
    """A fresh interpreter: in this one openai is already imported."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_start_path_leaves_the_type_packages_pending() -> None:
    # Before, `import openai` ran openai/types/__init__.py: every API's models (~0.4 s of CPU).
    code = (
        "import json, sys\n"
        "from bot import lazy_aiogram, lazy_openai\n"
        "lazy_aiogram.install(); lazy_openai.install()\n"
        "import bot.app\n"
        "loaded = [m for m in ('openai.types.eval_create_params', 'openai.types.responses.response')"
        " if m in sys.modules]\n"
        "print(json.dumps([lazy_openai.pending(), loaded]))\n"
    )
    pending, loaded = json.loads(run(code))
    assert {"openai.types", "openai.types.responses"} <= set(pending)
    assert loaded == []


def test_a_pending_package_binds_every_name_the_eager_import_does() -> None:
    # Fails if a deferred __init__ leaves a name out or binds another object to it.
    eager = json.loads(run(NAMES))
    lazy = json.loads(run("from bot import lazy_openai\nlazy_openai.install()\n" + NAMES))
    assert lazy.keys() == eager.keys()
    for package, names in eager.items():
        assert set(names) <= set(lazy[package]), package


def test_names_resolve_on_first_use() -> None:
    code = (
        "from bot import lazy_openai\n"
        "lazy_openai.install()\n"
        "import openai\n"
        "from openai.types.chat import ChatCompletionChunk\n"
        "print(openai.types.Model.__module__, ChatCompletionChunk.__module__,"
        " openai.types.responses.Response.__module__, 'openai.types' in lazy_openai.pending())\n"
    )
    assert run(code).split() == [
        "openai.types.model",
        "openai.types.chat.chat_completion_chunk",
        "openai.types.responses.response",
        "False",
    ]


def test_too_late_once_openai_is_imported() -> None:
    done = run("import openai, bot.lazy_openai as lazy\nprint(lazy.install(), lazy.installed())")
    assert done.split() == ["False", "False"]


def test_the_suite_runs_on_lazy_type_packages() -> None:
    # tests/conftest.py installs it before any test module imports openai, as `python -m bot` does.
    assert lazy_openai.installed()
