"""Lines of Python under bot/, split by the features added after bd269b8 (issue #20's baseline).

    python bench/line_count.py [--at REV] [--files]

Each feature area is the files it brought (a file-level mapping: the lines those features added
to files that already existed at bd269b8, such as their settings or Lua scripts, stay in "the rest",
so "the rest" is an upper bound for what bd269b8's behaviour takes now). --at counts a commit
instead of the working tree; --files lists each file with its area.
"""

from __future__ import annotations

import argparse
import subprocess
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "bd269b8"

AREAS: dict[str, tuple[str, ...]] = {
    "payments (Stars)": (
        "bot/config_stars.py",
        "bot/adapters/redis_payments.py",
        "bot/core/payment_ledger.py",
        "bot/core/payments.py",
        "bot/telegram/handlers/payments.py",
        "bot/telegram/payments_recovery.py",
    ),
    "voice and usage pictures": (
        "bot/adapters/transcription.py",
        "bot/adapters/usage_chart.py",
        "bot/adapters/redis_usage_series.py",
        "bot/core/voice.py",
        "bot/core/usage_chart.py",
        "bot/telegram/input_kinds.py",
        "bot/telegram/voice_turns.py",
        "bot/telegram/usage_pictures.py",
    ),
    "inline mode": (
        "bot/adapters/redis_inline.py",
        "bot/core/inline.py",
        "bot/telegram/handlers/inline.py",
        "bot/telegram/inline_answers.py",
        "bot/telegram/inline_queries.py",
        "bot/telegram/streaming/inline.py",
    ),
    "conversation control (regenerate, edit to redo, modes, export)": (
        "bot/adapters/redis_variants.py",
        "bot/core/redo.py",
        "bot/core/variants.py",
        "bot/core/modes.py",
        "bot/core/export.py",
        "bot/telegram/handlers/conversation.py",
        "bot/telegram/handlers/edits.py",
        "bot/telegram/handlers/modes.py",
        "bot/telegram/handlers/export.py",
        "bot/telegram/modes_catalog.py",
        "bot/telegram/redo_first.py",
    ),
    "workers and hardening": (
        "bot/workers/__init__.py",
        "bot/workers/child.py",
        "bot/workers/jobs.py",
        "bot/workers/lanes.py",
        "bot/workers/pool.py",
        "bot/core/jobs.py",
        "bot/telegram/job_owner.py",
        "bot/adapters/page_text.py",
        "bot/adapters/tools/mcp_stdio.py",
    ),
}
REST = "the rest (bd269b8's behaviour, restructured)"


def area_of(path: str) -> str:
    return next((area for area, files in AREAS.items() if path in files), REST)


def line_counts(rev: str | None) -> dict[str, int]:
    """Lines of each bot/**/*.py file in the working tree, or at `rev`."""
    if rev is None:
        return {
            str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
            for p in sorted((ROOT / "bot").rglob("*.py"))
        }
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "bot/"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    counts = {}
    for path in (p for p in listing if p.endswith(".py")):
        text = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        counts[path] = len(text.splitlines())
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", help="a commit instead of the working tree")
    parser.add_argument("--files", action="store_true", help="list each file with its area")
    args = parser.parse_args()
    counts = line_counts(args.at)
    by_area: Counter[str] = Counter()
    for path, lines in counts.items():
        by_area[area_of(path)] += lines
    if args.files:
        for path, lines in sorted(counts.items(), key=lambda item: (area_of(item[0]), item[0])):
            print(f"{lines:6}  {area_of(path)[:24]:24}  {path}")
    print(f"bot/ .py lines ({args.at or 'working tree'}): {sum(counts.values())}")
    for area in (*AREAS, REST):
        print(f"{by_area[area]:8}  {area}")
    if args.at != BASELINE:
        base = sum(line_counts(BASELINE).values())
        print(f"baseline {BASELINE}: {base}; the rest against it: {by_area[REST] - base:+}")


if __name__ == "__main__":
    main()
