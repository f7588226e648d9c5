"""Received rich messages flattened to text for the model."""

from __future__ import annotations

from bot.formatting.rich_flatten import flatten_rich

PASTED = [
    {"type": "heading", "size": 2, "text": "Plan"},
    {"type": "paragraph", "text": ["Costs ", {"type": "bold", "text": "$5"}, " a month."]},
    {
        "type": "list",
        "items": [
            {"label": "•", "blocks": [{"type": "paragraph", "text": "draft"}],
             "has_checkbox": True, "is_checked": True},
            {"label": "•", "blocks": [{"type": "paragraph", "text": "ship"}],
             "has_checkbox": True, "is_checked": False},
        ],
    },
    {
        "type": "table",
        "cells": [
            [{"text": "Model", "align": "left", "valign": "top", "is_header": True},
             {"text": "Price", "align": "right", "valign": "top", "is_header": True}],
            [{"text": "Qwen", "align": "left", "valign": "top"},
             {"text": "$0.001", "align": "right", "valign": "top"}],
        ],
    },
    {"type": "pre", "text": "print(1)", "language": "python"},
    {"type": "mathematical_expression", "expression": "x^2"},
    {"type": "blockquote", "blocks": [{"type": "paragraph", "text": "quoted\nlines"}]},
    {"type": "details", "summary": "More", "blocks": [{"type": "paragraph", "text": "hidden"}]},
    {"type": "photo", "photo": [], "caption": {"text": "A cat"}},
]  # fmt: skip


def test_pasted_formatting_becomes_readable_text() -> None:
    assert flatten_rich(PASTED) == (
        "## Plan\n\n"
        "Costs $5 a month.\n\n"
        "• [x] draft\n• [ ] ship\n\n"
        "| Model | Price |\n|---|---|\n| Qwen | $0.001 |\n\n"
        "```python\nprint(1)\n```\n\n"
        "$$\nx^2\n$$\n\n"
        "> quoted\n> lines\n\n"
        "More\n\nhidden\n\n"
        "[photo] A cat"
    )


def test_empty_and_unknown_blocks() -> None:
    assert flatten_rich([]) == ""
    assert flatten_rich([{"type": "divider"}, {"type": "anchor", "name": "x"}]) == "---\n\n[anchor]"
