"""Draws a usage Chart as a PNG with Pillow, by hand: stacked bars, a grid, a legend.

Runs in a worker process (job "render_chart"): Pillow is imported there, never in the bot's own
process. Opaque light background with dark text and saturated colours (Okabe-Ito, told apart
by colour-blind readers too): the same picture reads in Telegram's light and dark themes.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.core.usage_chart import Chart, Panel

WIDTH = 1080
PANEL_HEIGHT = 620
PAD = 48
BACKGROUND = (250, 250, 252)
INK = (30, 32, 38)
GRID = (214, 218, 226)
PALETTE = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233),
           (213, 94, 0))  # fmt: skip
# A font with Cyrillic; Pillow's own default font has Latin letters only.
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font(size: int) -> Font:
    for path in FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def compact(n: float) -> str:
    """12345 -> "12k", 1234567 -> "1.2M"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1000:
        return f"{n / 1000:.0f}k"
    return f"{n:.0f}"


def nice_top(peak: int) -> int:
    """The axis' top: four grid steps of 1, 2, 2.5 or 5 times a power of ten, at least `peak`."""
    power = 1
    while True:
        for factor in (1, 2, 2.5, 5):
            if 4 * power * factor >= peak:
                return int(4 * power * factor)
        power *= 10


def render(chart: Chart) -> bytes:
    """The chart as PNG bytes."""
    image = Image.new("RGB", (WIDTH, PANEL_HEIGHT * len(chart.panels)), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for index, panel in enumerate(chart.panels):
        _panel(draw, panel, index * PANEL_HEIGHT)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _panel(draw: ImageDraw.ImageDraw, panel: Panel, top: int) -> None:
    draw.text((PAD, top + 24), panel.title, fill=INK, font=font(34))
    legend_rows = (len(panel.series) + 1) // 2
    plot_top = top + 90
    plot_bottom = top + PANEL_HEIGHT - 70 - 34 * legend_rows - 30 * len(panel.notes)
    left, right = PAD + 70, WIDTH - PAD
    axis_top = nice_top(max(max(panel.totals, default=0), 1))
    for step in range(5):
        y = plot_bottom - (plot_bottom - plot_top) * step / 4
        draw.line((left, y, right, y), fill=GRID, width=2)
        label = compact(axis_top * step / 4)
        draw.text((left - 12, y), label, fill=INK, font=font(24), anchor="rm")
    _bars(draw, panel, (left, plot_top, right, plot_bottom), axis_top)
    _legend(draw, panel, plot_bottom + 56)


def _bars(
    draw: ImageDraw.ImageDraw, panel: Panel, box: tuple[int, int, int, int], axis_top: int
) -> None:
    left, plot_top, right, plot_bottom = box
    count = max(len(panel.labels), 1)
    slot = (right - left) / count
    scale = (plot_bottom - plot_top) / axis_top
    for day in range(len(panel.labels)):
        x0 = left + day * slot + slot * 0.15
        x1 = left + (day + 1) * slot - slot * 0.15
        y = float(plot_bottom)
        for index, (_model, values) in enumerate(panel.series):
            height = values[day] * scale
            if height > 0:
                color = PALETTE[index % len(PALETTE)]
                draw.rectangle((x0, y - height, x1, y), fill=color)
                y -= height
        if (day % 7 == 0 and day < count - 4) or day == count - 1:  # weekly, and today
            center = (x0 + x1) / 2
            draw.text((center, plot_bottom + 10), panel.labels[day], fill=INK, font=font(22),
                      anchor="mt")  # fmt: skip


def _legend(draw: ImageDraw.ImageDraw, panel: Panel, y: int) -> None:
    for index, (model, _values) in enumerate(panel.series):
        x = PAD + (index % 2) * (WIDTH - 2 * PAD) // 2
        row = y + (index // 2) * 34
        draw.rectangle((x, row, x + 24, row + 24), fill=PALETTE[index % len(PALETTE)])
        draw.text((x + 34, row + 12), model, fill=INK, font=font(24), anchor="lm")
    y += ((len(panel.series) + 1) // 2) * 34 + 6
    for note in panel.notes:
        draw.text((PAD, y), note, fill=INK, font=font(24))
        y += 30
