"""One name, one type: the types the turn and its tools share are declared once in bot/."""

from __future__ import annotations

import ast
from pathlib import Path

import bot

BOT = Path(bot.__file__).parent


def _declared(name: str) -> list[str]:
    found = []
    for path in sorted(BOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (
                [node.name]
                if isinstance(node, ast.ClassDef)
                else [t.id for t in node.targets if isinstance(t, ast.Name)]
                if isinstance(node, ast.Assign)
                else [node.target.id]
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                else []
            )
            if name in targets:
                found.append(str(path.relative_to(BOT.parent)))
    return found


def test_one_outcome_type() -> None:
    # The turn's Outcome is core.models'; a tool call's is CallOutcome.
    assert _declared("Outcome") == ["bot/core/models.py"]
    assert _declared("CallOutcome") == ["bot/core/tools.py"]
