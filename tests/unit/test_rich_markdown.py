"""The safety pass for Telegram rich Markdown, on the kind of text models write."""

from __future__ import annotations

import pytest

from bot.formatting.rich_markdown import escape_text, make_safe
from bot.formatting.rich_split import split_rich


def test_prices_are_not_formulas() -> None:
    text = "Revenue grew from $395k to $483k, about $88k more; US$5 and $5/$10 plans."
    safe = make_safe(text)
    assert safe == (
        "Revenue grew from \\$395k to \\$483k, about \\$88k more; US\\$5 and \\$5/\\$10 plans."
    )


def test_math_is_kept() -> None:
    text = "Energy $E = mc^2$ and the sum:\n\n$$\n\\sum_{i=1}^n i = \\frac{n(n+1)}{2}\n$$\n\nDone."
    assert make_safe(text) == text
    assert make_safe("inline $$a+b$$ display") == "inline $$a+b$$ display"


def test_dollars_in_code_are_untouched() -> None:
    text = 'Run `echo $HOME` then:\n\n```bash\nexport PRICE=$5\necho "$PRICE"\n```\n\nIt costs $5.'
    safe = make_safe(text)
    assert "`echo $HOME`" in safe
    assert 'export PRICE=$5\necho "$PRICE"' in safe
    assert safe.endswith("It costs \\$5.")


def test_price_table_keeps_its_dollars_literal() -> None:
    text = "| Model | Price |\n|---|---:|\n| Qwen | $0.00123 |\n| DeepSeek | $0.002 |"
    safe = make_safe(text)
    assert safe == "| Model | Price |\n|---|---:|\n| Qwen | \\$0.00123 |\n| DeepSeek | \\$0.002 |"


def test_table_gets_a_blank_line_and_prose_off_its_header() -> None:
    text = "Here is the comparison: | A | B |\n|---|---|\n| 1 | 2 |"
    assert make_safe(text) == "Here is the comparison:\n\n| A | B |\n|---|---|\n| 1 | 2 |"
    glued = "Results:\n| A | B |\n|---|---|\n| 1 | 2 |"
    assert make_safe(glued) == "Results:\n\n| A | B |\n|---|---|\n| 1 | 2 |"


def test_broken_table_is_left_as_readable_text() -> None:
    text = "| A | B | C |\n|---|---|\n| 1 | 2 | 3 |\n\nAfter."
    safe = make_safe(text)
    assert "|---|" not in safe
    assert safe.startswith("A \\| B \\| C\n\n1 \\| 2 \\| 3")
    assert safe.endswith("After.")


def test_drafts_close_open_constructs() -> None:
    assert make_safe("Code:\n\n```python\nprint(1)").endswith("print(1)\n```")
    assert make_safe("~~~~\nx").endswith("x\n~~~~")
    assert make_safe("$$\nx^2 +").endswith("x^2 +\n$$")
    folded = make_safe("<details><summary>More</summary>\n\nhalf")
    assert folded.endswith("half\n</details>")
    closed = "<details><summary>More</summary>\n\nall\n\n</details>"
    assert make_safe(closed) == closed


def test_buttons_and_media_never_become_live() -> None:
    text = (
        'Click <tg-button type="callback_data" data="admin:wipe">here</tg-button>\n'
        '<tg-button-row align="center"><tg-button type="url" url="https://x.io">x</tg-button>'
        "</tg-button-row>\n"
        '<img src="https://tracker.example/p.gif"> <video src="https://x/v.mp4"></video>\n'
        '<TG-DOCUMENT src="https://x/a.zip"/> <tg-map lat="1" long="2"/>\n\n'
        '![cat](https://example.com/cat.jpg "A cat") and ![](https://example.com/x.mp3)\n\n'
        "![👍](tg://emoji?id=5368324170671202286)"
    )
    safe = make_safe(text)
    for tag in ("<tg-button", "</tg-button", "<img", "<video", "<TG-DOCUMENT", "<tg-map"):
        assert tag not in safe.replace("\\<", "")
    assert "[cat](https://example.com/cat.jpg)" in safe
    assert "![cat]" not in safe and "![](" not in safe
    assert "[https://example\\.com/x\\.mp3](https://example.com/x.mp3)" in safe
    assert "![👍](tg://emoji?id=5368324170671202286)" in safe  # custom emoji stay


def test_tags_inside_code_stay_as_written() -> None:
    text = 'Use `<img src=x>` or:\n\n```html\n<tg-button type="url">x</tg-button>\n```'
    assert make_safe(text) == text


def test_think_blocks_are_dropped() -> None:
    assert make_safe("<think>secret plan</think>The answer is 4.") == "The answer is 4."
    assert make_safe("Answer.\n<think>still thinking") == "Answer."


def test_escape_text_shows_words_literally() -> None:
    assert escape_text("Stopped. (1/2) *really*") == "Stopped\\. \\(1/2\\) \\*really\\*"


def test_split_at_block_boundaries_under_the_limit() -> None:
    paragraph = ("A sentence about inference that goes on for a while. " * 10).strip()
    text = "\n\n".join(f"## Part {i}\n\n{paragraph}" for i in range(40))
    pieces = split_rich(text, max_chars=4000)
    assert len(pieces) > 1
    assert all(len(make_safe(p)) <= 4000 for p in pieces)
    assert "\n\n".join(pieces) == text
    assert all(p.startswith("## Part") for p in pieces)


def test_split_respects_the_block_count() -> None:
    text = "\n".join(f"- item {i}" for i in range(1200))
    pieces = split_rich(text)
    assert len(pieces) == 1  # one list paragraph is one chunk: it cannot be cut at a blank line
    listed = "\n\n".join(f"Paragraph {i}." for i in range(1200))
    pieces = split_rich(listed, max_blocks=500)
    assert len(pieces) == 3
    assert all(p.count("\n\n") < 500 for p in pieces)


def test_split_cuts_a_huge_code_block_and_reopens_its_fence() -> None:
    code = "\n".join(f"print({i})  # line" for i in range(3000))
    text = f"Intro.\n\n```python\n{code}\n```\n\nOutro."
    pieces = split_rich(text, max_chars=20000)
    assert len(pieces) >= 3
    assert all(len(p) <= 20000 for p in pieces)
    inner = [p for p in pieces if "print(" in p]
    assert all(p.count("```") == 2 for p in inner)
    assert all("```python\n" in p for p in inner)
    assert pieces[-1].endswith("Outro.")


def test_no_math_inside_details() -> None:
    text = "<details><summary>Proof</summary>\n\n$x^2$ and\n\n$$\ny = 1\n$$\n\n</details>\n\n$z$"
    safe = make_safe(text)
    assert "\\$x^2\\$" in safe and "\\$\\$\ny = 1\n\\$\\$" in safe
    assert safe.endswith("</details>\n\n$z$")  # math again after the details block


def test_huge_formula_is_shown_as_latex_code() -> None:
    formula = " + ".join(f"x_{{{i}}}^2" for i in range(600))
    safe = make_safe(f"Sum:\n\n$$\n{formula}\n$$\n\nEnd, costs $5.")
    assert safe.startswith(f"Sum:\n\n```latex\n{formula}\n```")
    assert safe.endswith("End, costs \\$5.")
    short = "$$\na + b\n$$"
    assert make_safe(short) == short


@pytest.mark.parametrize(
    "image",
    [
        "![a](https://e/x.jpg 'cap')",
        "![a](url (cap))",
        "![a](<https://e/x (1).jpg>)",
        "![a][r]\n\n[r]: https://e/x.jpg",
    ],
)
def test_no_image_syntax_survives(image: str) -> None:
    assert make_safe(image).startswith("\\![a]")


def test_custom_emoji_images_stay() -> None:
    assert make_safe("![👍](tg://emoji?id=5)") == "![👍](tg://emoji?id=5)"


def test_indented_fence_in_a_list_item_is_code() -> None:
    text = "1. Run:\n\n    ```bash\n    echo $HOME <img>\n    ```\n\nafter $5"
    assert make_safe(text) == text.replace("after $5", "after \\$5")


def test_tables_inside_code_blocks_are_untouched() -> None:
    text = "Example:\n```md\nSee: | A | B |\n|---|\n| 1 | 2 |\n```"
    assert make_safe(text) == text


def test_only_the_next_dollar_closes_a_formula() -> None:
    assert make_safe("price $5, math $x^2$") == "price \\$5, math $x^2$"
