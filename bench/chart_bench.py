"""What the /usage picture costs (issue 22): Pillow's import time and the memory it adds to a
fresh worker-like process, and the time to render a 30-day chart of 5 models (one and two panels).

    .venv/bin/python bench/chart_bench.py [--runs 20] [--png docs/usage-sample.png]

Each figure is measured in a fresh interpreter (the worker imports Pillow on its first picture).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
def rss():  # current resident set in KiB (Linux)
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
import bot.core.usage_chart as core
before = rss(); t0 = time.perf_counter()
import bot.adapters.usage_chart as chart
import PIL.Image, PIL.ImageDraw, PIL.ImageFont, PIL.PngImagePlugin
imported = time.perf_counter() - t0
from datetime import date
days = core.last_days(date(2026, 12, 8))
models = ["Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", "moonshotai/Kimi-K2-Instruct",
          "deepseek-ai/DeepSeek-V3.1", "zai-org/GLM-4.6", "openai/gpt-oss-120b"]
by_day = [{m: (i * 977 * (k + 1)) % 40_000 for k, m in enumerate(models)} for i in range(30)]
panel = core.Panel("You, 30 days: 1,234,567 tokens, $1.23",
                   tuple(d.strftime("%b %d") for d in days), core.stacked(by_day, "other"))
runs = []
for panels in [(panel,)] * int(sys.argv[1]):
    t0 = time.perf_counter(); png = chart.render(core.Chart(panels)); runs.append(time.perf_counter() - t0)
t0 = time.perf_counter(); two = chart.render(core.Chart((panel, panel))); both = time.perf_counter() - t0
if sys.argv[2]:
    open(sys.argv[2], "wb").write(png)
print(json.dumps({"import_s": imported, "rss_added_mib": (rss() - before) / 1024,
                  "render_s": runs, "two_panels_s": both, "png_bytes": len(png)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--png", default="")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.runs), args.png],
        cwd=root, check=True, capture_output=True, text=True,
    )  # fmt: skip
    found = json.loads(out.stdout)
    runs = sorted(found["render_s"])
    print(f"Pillow import (with the chart module): {found['import_s'] * 1000:.0f} ms")
    print(f"memory added by import and rendering: {found['rss_added_mib']:.1f} MiB")
    print(
        f"render one panel, 30 days x 5 models: first {found['render_s'][0] * 1000:.0f} ms, "
        f"median {statistics.median(runs) * 1000:.0f} ms, max {runs[-1] * 1000:.0f} ms"
    )
    print(f"render two panels (a group's /usage): {found['two_panels_s'] * 1000:.0f} ms")
    print(f"PNG size: {found['png_bytes'] / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
