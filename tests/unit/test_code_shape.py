"""The code's shape (issue 20): no function of bot/ over 50 lines, no module over 300.

Counted as the AST sees them: a function from its `def` line to its last line, docstring and
nested functions included (a nested function is measured on its own as well); a module by its
lines. ruff's C901 (complexity <= 12) is checked by `ruff check`, not here."""

from __future__ import annotations

import ast
from pathlib import Path

import bot

BOT = Path(bot.__file__).parent
MAX_FUNCTION_LINES = 50
MAX_MODULE_LINES = 300
# Allowed exceptions, as "bot/path.py:function" or "bot/path.py". Keep it empty: split instead.
ALLOWED: frozenset[str] = frozenset()


def _modules() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(BOT.parent)), path.read_text(encoding="utf-8"))
        for path in sorted(BOT.rglob("*.py"))
    ]


def _long_functions(name: str, source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            where = f"{name}:{node.name}"
            if lines > MAX_FUNCTION_LINES and where not in ALLOWED:
                found.append(f"{where} (line {node.lineno}) has {lines} lines")
    return found


def test_the_walk_finds_the_package() -> None:
    names = [name for name, _ in _modules()]
    assert "bot/app.py" in names
    assert "bot/telegram/streaming/view.py" in names


def test_no_function_over_50_lines() -> None:
    found = [line for name, source in _modules() for line in _long_functions(name, source)]
    assert not found, "split these functions:\n" + "\n".join(found)


def test_no_module_over_300_lines() -> None:
    found = [
        f"{name} has {lines} lines"
        for name, source in _modules()
        if (lines := len(source.splitlines())) > MAX_MODULE_LINES and name not in ALLOWED
    ]
    assert not found, "split these modules:\n" + "\n".join(found)


def test_the_measure_counts_docstrings_and_nested_functions() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 3))
    fits = f'def f() -> None:\n    """Doc."""\n{body}\n    return None\n'
    assert _long_functions("m.py", fits) == []
    too_long = fits.replace('"""Doc."""', '"""Doc.\n\n    More."""')
    assert _long_functions("m.py", too_long) == ["m.py:f (line 1) has 52 lines"]
    nested = "async def outer() -> None:\n" + "\n".join(
        "    " + line for line in too_long.splitlines()
    )
    assert _long_functions("m.py", nested) == [
        "m.py:outer (line 1) has 53 lines",
        "m.py:f (line 2) has 52 lines",
    ]
