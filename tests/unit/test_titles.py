"""Topic titles from first questions."""

from __future__ import annotations

from bot.core.titles import topic_title


def test_short_question_is_the_title() -> None:
    assert topic_title("  What is   Gonka?\n") == "What is Gonka"


def test_long_question_is_cut_at_a_word() -> None:
    title = topic_title("Explain how decentralized inference verifies the work of other nodes")
    assert title == "Explain how decentralized inference verifies…"
    assert len(title) <= 48


def test_empty_text() -> None:
    assert topic_title("?!") == "…"
