"""PrefixRenderer renders every prefix of a streamed answer exactly as render_markdown does."""

from __future__ import annotations

import random

from bot.formatting.render import render_markdown
from bot.formatting.render_prefix import PrefixRenderer

BLOCKS = [
    "Plain paragraph with **bold**, _italic_, `code` and a [link](https://example.com).",
    "Second line\nwith a soft break and ~~strike~~.",
    "# Heading one",
    "Setext heading\n===",
    "Title\n---",
    "- item one\n- item two\n\n  continued inside the item\n- item three",
    "1. first\n2. second\n\n3. loose third",
    "3) starts at three\n4) four",
    "> a quote\n> on two lines\n\nafter",
    "> quote\nlazy continuation",
    "```python\ndef f():\n\n    return 1\n```",
    "```\nunclosed fence\n\nText inside the fence",
    "~~~\ntilde fence\n~~~",
    "````\n```\ninner\n```\n````",
    "    indented code\n\n    more code",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Name | Value\n--- | ---\nx | y",
    "***",
    "A [reference link][ref] here.",
    "[ref]: https://example.org",
    "Emoji 😀 and кириллица, 中文.",
    "Trailing spaces  \nhard break",
    "*unclosed emphasis\n\nnext paragraph*",
    "<div>html is text</div>",
    "Text\twith\ttabs",
    "- [x] task\n- [ ] open task",
    "  Indented two spaces paragraph",
    "http://bare.example.com link",
    "**bold across\n\nparagraphs**",
    "Image ![alt](https://example.com/i.png)",
]

SEPARATORS = ["\n\n", "\n", "\n\n\n", "\n \n", "\n\t\n"]


def documents(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        parts = [rng.choice(BLOCKS) for _ in range(rng.randint(2, 9))]
        doc = parts[0]
        for part in parts[1:]:
            doc += rng.choice(SEPARATORS) + part
        docs.append(doc)
    return docs


def test_every_prefix_of_many_documents_renders_as_a_full_render() -> None:
    renderer = PrefixRenderer(render_markdown, size=50)  # small: evictions happen too
    checked = 0
    for doc in documents(300, seed=19):
        for end in range(1, len(doc) + 1):
            prefix = doc[:end]
            assert renderer.render(prefix) == render_markdown(prefix), repr(prefix)
            checked += 1
    assert checked > 10_000


def test_a_long_answer_is_rendered_from_its_kept_head() -> None:
    calls: list[str] = []

    def full(md: str) -> object:
        calls.append(md)
        return render_markdown(md)

    renderer = PrefixRenderer(full)  # type: ignore[arg-type]
    answer = "\n\n".join(f"Paragraph {i} says something **useful**." for i in range(30))
    for end in range(len(answer) - 200, len(answer) + 1):
        assert renderer.render(answer[:end]) == render_markdown(answer[:end])
    # Past the first draft, only the last paragraph is parsed again, not the whole answer.
    assert max(len(md) for md in calls[-50:]) < 100
