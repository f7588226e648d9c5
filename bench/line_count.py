"""Lines of Python under bot/, split by the features added after bd269b8 (issue #20's baseline).

    python bench/line_count.py [--at REV] [--files] [--blame]

Each feature area is the files it brought (a file-level mapping: the lines those features added
to files that already existed at bd269b8, such as their settings or Lua scripts, stay in "the rest",
so "the rest" is an upper bound for what bd269b8's behaviour takes now). --at counts a commit
instead of the working tree; --files lists each file with its area.

--blame splits "the rest" line by line instead: `git blame` names the commit that last wrote each
line, and a commit after bd269b8 whose subject names a feature (FEATURE_COMMITS) gives it that
area; lines last written at or before bd269b8 are bd269b8's own, unchanged.
"""

from __future__ import annotations

import argparse
import re
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
# --blame: a commit after bd269b8 belongs to the first area whose pattern its subject matches.
FEATURE_COMMITS: dict[str, str] = {
    "payments (Stars)": r"Stars|^Payments|/refund",
    "voice and usage pictures": r"[Vv]oice|[Tt]ranscri|PNG|picture|speech seconds",
    "inline mode": r"[Ii]nline mode",
    "conversation control (regenerate, edit to redo, modes, export)": (
        r"Regenerate|Edit to redo|Redo:|Modes:|/mode|/export"
    ),
    "workers and hardening": (
        r"[Ww]orker|Issue 25|[Hh]ostile|zip bomb|MCP servers cannot|malformed update|size cap"
        r"|redaction|read to their end|error bodies|download stops|over the cap|pace counts"
    ),
}


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


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def blamed_areas(paths: list[str]) -> Counter[str]:
    """Lines of `paths` (working tree) by the area of the commit that last wrote them."""
    old = set(git("rev-list", BASELINE).split())
    area_of_commit: dict[str, str] = {}
    for line in git("log", "--format=%H %s", f"{BASELINE}..HEAD").splitlines():
        sha, subject = line.split(" ", 1)
        found = (a for a, pattern in FEATURE_COMMITS.items() if re.search(pattern, subject))
        area_of_commit[sha] = next(found, REST)
    lines: Counter[str] = Counter()
    for path in paths:
        for line in git("blame", "-l", "-s", "--", path).splitlines():
            sha = line.split(" ", 1)[0].lstrip("^")
            lines[
                "unchanged since " + BASELINE if sha in old else area_of_commit.get(sha, REST)
            ] += 1
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", help="a commit instead of the working tree")
    parser.add_argument("--files", action="store_true", help="list each file with its area")
    parser.add_argument("--blame", action="store_true", help="split the rest by git blame")
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
    if args.blame and args.at is None:
        rest = [path for path in counts if area_of(path) == REST]
        print(f"the rest ({by_area[REST]} lines) by the commit that last wrote each line:")
        blamed = blamed_areas(rest)
        for area, lines in blamed.most_common():
            print(f"{lines:8}  {area}")
        own = sum(n for area, n in blamed.items() if area not in FEATURE_COMMITS)
        print(f"bd269b8's behaviour now (the rest less the features' lines in it): {own}")
    if args.at != BASELINE:
        base = sum(line_counts(BASELINE).values())
        print(f"baseline {BASELINE}: {base}; the rest against it: {by_area[REST] - base:+}")


if __name__ == "__main__":
    main()
