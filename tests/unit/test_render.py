"""Tests for bot.formatting.render: Markdown -> Telegram text/entities, and splitting.

Measured timings (2-core dev box, CPython 3.11, markdown-it-py 4.0):
- render_markdown, 1,500-char typical LLM answer (paragraphs, lists, code, links,
  emoji): ~0.4 ms; 1,400 chars of dense markup (a link or emphasis every ~30 chars):
  ~1.5 ms; 4,000 typical chars: ~1.7 ms.
- split_markdown, 9,000-char answer into 4096-unit pieces: ~6 ms cold;
  ~0.1 ms when re-splitting the same/growing answer (cut choices are cached per
  window, so the streaming sink only pays for the last piece).
"""

from __future__ import annotations

import itertools
import random
import re

import pytest

from bot.formatting.render import (
    Entity,
    Rendered,
    render_folded,
    render_markdown,
    split_markdown,
    utf16_len,
)

# -- helpers ----------------------------------------------------------------------------

NESTABLE = {"bold", "italic", "underline", "strikethrough"}
LEAVES = {"pre", "code"}
QUOTES = {"blockquote", "expandable_blockquote"}


def assert_valid_entities(r: Rendered) -> None:
    """Telegram's rules: in range, non-empty, no split surrogate pair, proper nesting,
    nothing inside pre/code, no blockquote in blockquote, sorted by offset."""
    units = r.text.encode("utf-16-le")
    total = len(units) // 2
    assert total == r.utf16_len()
    assert r.text == r.text.rstrip(), "no trailing whitespace"

    def is_low_surrogate(i: int) -> bool:
        return i < total and 0xDC00 <= int.from_bytes(units[2 * i : 2 * i + 2], "little") <= 0xDFFF

    keys = [(e.offset, -e.length) for e in r.entities]
    assert keys == sorted(keys), "sorted by offset, longer first"
    for e in r.entities:
        assert e.length > 0 and e.offset >= 0 and e.offset + e.length <= total, e
        assert not is_low_surrogate(e.offset) and not is_low_surrogate(e.offset + e.length), e
        if e.type == "text_link":
            assert e.url
    for i, a in enumerate(r.entities):
        for b in r.entities[i + 1 :]:
            a_end, b_end = a.offset + a.length, b.offset + b.length
            if b.offset >= a_end or a.offset >= b_end:
                continue  # disjoint
            a_in_b = b.offset <= a.offset and a_end <= b_end
            b_in_a = a.offset <= b.offset and b_end <= a_end
            assert a_in_b or b_in_a, f"overlap without nesting: {a} {b}"
            outer, inner = (b, a) if a_in_b and not b_in_a else (a, b)
            assert outer.type not in LEAVES, f"nothing inside pre/code: {a} {b}"
            assert not (outer.type in QUOTES and inner.type in QUOTES), (a, b)
            if inner.type == "code":
                assert outer.type in NESTABLE | QUOTES, (a, b)
            if inner.type == "pre":
                assert outer.type in QUOTES, (a, b)
            if inner.type in QUOTES:
                assert outer.type in NESTABLE, (a, b)


def ents(*items: tuple[object, ...]) -> tuple[Entity, ...]:
    out = []
    for item in items:
        type_, offset, length, *extra = item
        assert isinstance(type_, str) and isinstance(offset, int) and isinstance(length, int)
        url = str(extra[0]) if extra and type_ == "text_link" else None
        lang = str(extra[0]) if extra and type_ == "pre" else None
        out.append(Entity(type_, offset, length, url=url, language=lang))
    return tuple(out)


# -- mapping ----------------------------------------------------------------------------

MAPPING_CASES = [
    ("**b** __b__", "b b", ents(("bold", 0, 1), ("bold", 2, 1))),
    ("*i* _i_", "i i", ents(("italic", 0, 1), ("italic", 2, 1))),
    ("~~s~~ `c`", "s c", ents(("strikethrough", 0, 1), ("code", 2, 1))),
    ("***bi***", "bi", ents(("italic", 0, 2), ("bold", 0, 2))),
    ("**a `c` b**", "a c b", ents(("bold", 0, 5), ("code", 2, 1))),
    ("**a **b** c**", "a b c", ents(("bold", 0, 5))),  # no bold inside bold
    ("```python extra\nprint(1)\n```", "print(1)", ents(("pre", 0, 8, "python"))),
    ("```\nx\n```", "x", ents(("pre", 0, 1))),
    ("    indented\n    code", "indented\ncode", ents(("pre", 0, 13))),
    ("[t](https://a.b/c)", "t", ents(("text_link", 0, 1, "https://a.b/c"))),
    ("[**t**](tg://user?id=1)", "t", ents(("text_link", 0, 1, "tg://user?id=1"), ("bold", 0, 1))),
    ("[m](mailto:a@b.c)", "m", ents(("text_link", 0, 1, "mailto:a@b.c"))),
    ("[t](ftp://x.y)", "t (ftp://x.y)", ()),
    ("[t](/rel)", "t (/rel)", ()),
    ("[t](javascript:alert(1))", "[t](javascript:alert(1))", ()),
    ("[](https://e.com)", "https://e.com", ents(("text_link", 0, 13, "https://e.com"))),
    ("<https://x.io>", "https://x.io", ents(("text_link", 0, 12, "https://x.io"))),
    ("[`c`](https://x.io)", "c", ents(("text_link", 0, 1, "https://x.io"))),
    ("![alt](https://i.png)", "alt (https://i.png)", ()),
    ("![](https://i.png)", "https://i.png", ()),
    ("# Title *x*\n\ntext", "Title x\n\ntext", ents(("bold", 0, 7), ("italic", 6, 1))),
    ("Setext\n===", "Setext", ents(("bold", 0, 6))),
    ("- a\n- b\n  - c\n    - d\n- e", "• a\n• b\n  • c\n    • d\n• e", ()),
    ("3. x\n4. y\n5. z", "3. x\n4. y\n5. z", ()),
    ("1. x\n1. y\n1. z", "1. x\n2. y\n3. z", ()),
    ("1) x\n2) y", "1) x\n2) y", ()),
    ("- a\n\n  more\n- b", "• a\nmore\n• b", ()),
    ("text\n- item\n\nafter", "text\n\n• item\n\nafter", ()),
    ("- **b** `c`", "• b c", ents(("bold", 2, 1), ("code", 4, 1))),
    ("> q **b**\n> > n\n\nout", "q b\n\nn\n\nout", ents(("blockquote", 0, 6), ("bold", 2, 1))),
    ("> a\nlazy", "a\nlazy", ents(("blockquote", 0, 6))),
    ("> ```js\n> x\n> ```", "x", ents(("blockquote", 0, 1), ("pre", 0, 1, "js"))),
    (">", "", ()),
    ("a\n\n---\n\nb", "a\n\n———\n\nb", ()),
    ("a  \nb\nc", "a\nb\nc", ()),
    ("a\\\nb", "a\nb", ()),
    ("p1\n\n\n\np2", "p1\n\np2", ()),
    ("<b>x</b> &amp; &copy; a<b", "<b>x</b> & © a<b", ()),
    ("<div>\nblock\n</div>", "<div>\nblock\n</div>", ()),
    ("2 * 3 * 4 and snake_case_name", "2 * 3 * 4 and snake_case_name", ()),
    ("\\*not italic\\*", "*not italic*", ()),
    ("", "", ()),
    ("  \n\n ", "", ()),
]


@pytest.mark.parametrize(("md", "text", "entities"), MAPPING_CASES)
def test_mapping(md: str, text: str, entities: tuple[Entity, ...]) -> None:
    r = render_markdown(md)
    assert r == Rendered(text, entities)
    assert_valid_entities(r)


def test_table_laid_out_in_pre() -> None:
    md = "| Name | Qty | Note |\n|:--|--:|:-:|\n| **apple** | 3 | `ok` |\n| 😀 банан | 12 | x |"
    r = render_markdown(md)
    lines = [
        "Name     | Qty | Note",
        "---------+-----+-----",
        "apple    |   3 |  ok",
        "😀 банан |  12 |  x",
    ]
    assert r.text == "\n".join(lines)
    assert r.entities == (Entity("pre", 0, r.utf16_len()),)


def test_table_between_paragraphs_and_ragged_rows() -> None:
    r = render_markdown("before\n\n| a | b |\n|---|---|\n| 1 |\n| 1 | 2 | 3 |\n\nafter")
    assert r.text == "before\n\na | b\n--+--\n1\n1 | 2\n\nafter"
    assert r.entities == (Entity("pre", 8, 19),)


def test_utf16_offsets_with_emoji_and_cyrillic() -> None:
    r = render_markdown("😀 **жир** `код` 👍🏽 [ссылка](https://x.ru) *🚀*")
    assert r.text == "😀 жир код 👍🏽 ссылка 🚀"
    assert r.entities == ents(
        ("bold", 3, 3), ("code", 7, 3), ("text_link", 16, 6, "https://x.ru"), ("italic", 23, 2)
    )
    assert r.utf16_len() == 25 == utf16_len(r.text)
    assert_valid_entities(r)


def test_utf16_len() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("жё") == 2
    assert utf16_len("😀a") == 3
    assert utf16_len("👨‍👩‍👧") == 8


def test_rendered_add_shifts_offsets() -> None:
    a = Rendered("😀 a", (Entity("bold", 3, 1),))
    b = Rendered("b", (Entity("code", 0, 1),))
    assert a + b == Rendered("😀 ab", (Entity("bold", 3, 1), Entity("code", 4, 1)))
    assert Rendered("") + b == b


def test_render_folded() -> None:
    assert render_folded("") == Rendered("")
    assert render_folded(" \n") == Rendered("")
    r = render_folded("думаю 🤔 *so*\n")
    assert r == Rendered("думаю 🤔 *so*", (Entity("expandable_blockquote", 0, 13),))
    assert_valid_entities(r)


# -- partial (streaming) markdown -------------------------------------------------------

STRESS_DOC = """# Заголовок 😀

Some **bold text** and *italic* and ~~gone~~ with `inline code` and a [link](https://ex.com/a_b).
Literal <tag> & snake_case * star.

> Quote with **bold** and > > nested
> > nested quote line

1. first **item**
2. second *item*
   - nested `code`
   - nested [l](http://x.y)

| col **a** | col b |
|---|:-:|
| 1 | два 🚀 |

```python
def f(x):
    return x * 2  # **not bold**
```

---

Final line with emoji 👍🏽 and trailing **bold
"""


def test_every_prefix_of_stress_doc_is_valid() -> None:
    for n in range(len(STRESS_DOC) + 1):
        r = render_markdown(STRESS_DOC[:n])
        assert_valid_entities(r)


def test_half_written_bold_stays_literal() -> None:
    doc = "Say **bold words** now"
    for n in range(len(doc) + 1):
        r = render_markdown(doc[:n])
        assert_valid_entities(r)
        if 6 <= n <= len("Say **bold words"):  # "**bold words*" is "*" + italic
            assert r.text == doc[:n].rstrip() and r.entities == ()
    assert render_markdown("a lone * star") == Rendered("a lone * star")
    assert render_markdown("**") == Rendered("**")


def test_unclosed_fence_renders_as_pre_at_every_prefix() -> None:
    doc = "Intro:\n\n```python\nimport os\nprint(os.sep)\n"
    head = "Intro:\n\n```python\n"
    for n in range(len(head), len(doc) + 1):
        r = render_markdown(doc[:n])
        assert_valid_entities(r)
        body = doc[len(head) : n].rstrip()
        assert r.text == ("Intro:\n\n" + body).rstrip()
        if body:
            assert r.entities == (Entity("pre", 8, utf16_len(body), language="python"),)


def test_half_table_never_crashes() -> None:
    doc = "| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3"
    for n in range(len(doc) + 1):
        assert_valid_entities(render_markdown(doc[:n]))
    assert render_markdown(doc).entities[0].type == "pre"


FUZZ_ALPHABET = [*"*_~`[]()!#>-+|:.\\ \n\t<&", "```", "**", "- ", "1. ", "> ", "😀", "ж", "a"]


def test_fuzz_random_markdown_always_valid() -> None:
    rng = random.Random(1234)
    for _ in range(1500):
        md = "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 40)))
        assert_valid_entities(render_markdown(md))


def test_fuzz_odd_inputs() -> None:
    for md in ["\x00", "\r\n\r\n", "\ud800", "[a](<>)", "<>", "a\u2028b", "`" * 50, "> " * 200]:
        assert_valid_entities(render_markdown(md))


# -- splitting --------------------------------------------------------------------------

WORDS = [
    *["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "e.g.", "3.14"],
    *["привет", "мир", "как", "дела", "данные", "код", "😀", "🚀"],
    *["**жирный**", "*курсив*", "`x=1`", "[ссылка](https://example.com)"],
]


def make_doc(seed: int, size: int) -> str:
    """A long LLM-like answer: paragraphs, code, lists, headings, quotes, Russian, emoji."""
    rng = random.Random(seed)

    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    blocks: list[str] = []
    last_kind = 0.0
    while sum(map(len, blocks)) < size:
        kind = rng.random()
        if 0.7 <= kind < 0.85 and 0.7 <= last_kind < 0.85:
            kind = 0.0  # adjacent lists would merge into one (renumbered) list
        last_kind = kind
        if kind < 0.5:
            ends = [".", "!", "?", "…"]
            sentences = [words(rng.randint(4, 15)) + rng.choice(ends) for _ in range(6)]
            blocks.append(" ".join(sentences[: rng.randint(1, 6)]))
        elif kind < 0.7:
            lang = rng.choice(["python", "js", ""])
            lines = [f"    x{i} = {i}  # комментарий {words(2)}" for i in range(rng.randint(3, 40))]
            blocks.append(f"```{lang}\n" + "\n".join(lines) + "\n```")
        elif kind < 0.85:
            ordered = rng.random() < 0.5
            items = [
                (f"{i + 1}. " if ordered else "- ") + words(rng.randint(2, 10))
                for i in range(rng.randint(2, 8))
            ]
            blocks.append("\n".join(items))
        elif kind < 0.92:
            blocks.append("## " + words(4))
        else:
            blocks.append("> " + words(20))
    return "\n\n".join(blocks)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def locate_pieces(doc: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Source span of each piece's own text (without fence lines added at cuts)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in pieces:
        lines = piece.split("\n")
        variants = [lines, lines[1:], lines[:-1], lines[1:-1]]
        for variant in variants:
            core = "\n".join(variant).strip()
            idx = doc.find(core, pos)
            if core and idx >= 0 and not doc[pos:idx].strip(" \n`pythonjs"):
                spans.append((idx, idx + len(core)))
                pos = idx + len(core)
                break
        else:
            raise AssertionError(f"piece not found in order: {piece[:80]!r}")
    assert not doc[pos:].strip(" \n`"), "tail lost"
    return spans


def check_split(doc: str, limit: int) -> list[str]:
    pieces = split_markdown(doc, limit)
    assert pieces and all(p.strip() for p in pieces)
    rendered = [render_markdown(p) for p in pieces]
    for r in rendered:
        assert 0 < r.utf16_len() <= limit
        assert_valid_entities(r)
    spans = locate_pieces(doc, pieces)
    for (_, end), (nxt, _) in itertools.pairwise(spans):
        cut_in_word = not doc[end - 1].isspace() and not doc[end].isspace() and end == nxt
        assert not cut_in_word, f"cut inside a word at {end}: {doc[end - 20 : end + 20]!r}"
    joined = "".join(r.text for r in rendered)
    assert squash(joined) == squash(render_markdown(doc).text)
    return pieces


@pytest.mark.parametrize("seed", range(4))
def test_split_long_answers(seed: int) -> None:
    doc = make_doc(seed, 9000)
    assert len(doc) >= 9000
    pieces = check_split(doc, 4096)
    assert len(pieces) >= 3
    for piece in pieces[:-1]:  # cut near the limit, not early
        assert render_markdown(piece).utf16_len() > 4096 // 3


@pytest.mark.parametrize(("seed", "limit"), [(10, 500), (11, 1000), (12, 2000), (13, 64)])
def test_split_small_limits(seed: int, limit: int) -> None:
    check_split(make_doc(seed, 6000), limit)


def test_split_fits_returns_input_unchanged() -> None:
    for md in ["", "short", "a\n\nb **c**", "x" * 4096, "| a |\n|---|\n| b |"]:
        assert split_markdown(md) == [md]


def test_split_verifies_rendered_length_for_tables() -> None:
    rows = "\n".join(f"| {i} | x |" for i in range(120))
    md = f"| a {'w' * 60} | b |\n|---|---|\n{rows}"
    assert utf16_len(md) < 4096 < render_markdown(md).utf16_len()
    pieces = split_markdown(md)
    assert len(pieces) > 1
    assert all(render_markdown(p).utf16_len() <= 4096 for p in pieces)


def test_split_prefers_paragraph_then_sentence_boundaries() -> None:
    para = "Word " * 150 + "end."  # 754 chars
    pieces = split_markdown(f"{para}\n\n{para}\n\n{para}", 1600)
    assert pieces == [f"{para}\n\n{para}", para]
    sentences = " ".join(["Это предложение номер один и оно длинное."] * 60)
    pieces = split_markdown(sentences, 1000)
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces) == sentences


def test_split_code_block_closed_and_reopened_with_language() -> None:
    code = "\n".join(f"value_{i} = compute({i})  # шаг {i}" for i in range(300))
    doc = f"Here is the code:\n\n```python title\n{code}\n```\n\nDone."
    pieces = check_split(doc, 1000)
    assert len(pieces) > 5
    for i, piece in enumerate(pieces):
        r = render_markdown(piece)
        pres = [e for e in r.entities if e.type == "pre"]
        if 0 < i < len(pieces) - 1:
            assert piece.startswith("```python title\n") and piece.endswith("\n```")
            assert pres == [Entity("pre", 0, r.utf16_len(), language="python")]
    code_lines = "".join(render_markdown(p).text + "\n" for p in pieces)
    assert all(f"value_{i} = compute({i})  # шаг {i}\n" in code_lines for i in range(300))


def test_split_fence_inside_blockquote_and_tilde_fence() -> None:
    code = "\n".join(f"> line {i} " + "z" * 20 for i in range(100))
    pieces = split_markdown(f"> ~~~~sh\n{code}\n> ~~~~\n\nafter", 500)
    for piece in pieces[1:-1]:
        assert piece.startswith("> ~~~~sh\n") and piece.endswith("\n> ~~~~")
        r = render_markdown(piece)
        assert [e.type for e in r.entities] == ["blockquote", "pre"]


def test_split_hard_cuts_only_overlong_words() -> None:
    word = "я😀" * 3000  # 9000 UTF-16 units, no spaces
    pieces = split_markdown(f"short words {word} tail", 4096)
    assert pieces[0] == "short words"
    assert "".join(pieces[1:-1]) + pieces[-1].removesuffix(" tail") == word
    for piece in pieces:
        assert utf16_len(render_markdown(piece).text) <= 4096
    assert len(pieces[1]) == 2731  # 4096 units = 1365 × "я😀" (3 units) + "я"


def test_split_rejects_tiny_limit() -> None:
    with pytest.raises(ValueError):
        split_markdown("x" * 100, 10)


def check_prefix_stability(doc: str, limit: int, stride: int = 37) -> None:
    full = split_markdown(doc, limit)
    assert len(full) > 1
    for n in range(1, len(doc) + 1, stride):
        pieces = split_markdown(doc[:n], limit)
        k = len(pieces) - 1
        assert pieces[:k] == full[:k], f"prefix {n}: frozen pieces changed"


@pytest.mark.parametrize(("seed", "limit"), [(0, 4096), (2, 1000), (3, 700)])
def test_split_is_prefix_stable(seed: int, limit: int) -> None:
    check_prefix_stability(make_doc(seed, 9000), limit)


def test_split_prefix_stable_with_long_code_block() -> None:
    code = "\n".join(f"    item_{i} = [{i}, '{'ю' * (i % 7)}']  # 🚀" for i in range(250))
    doc = f"Intro paragraph.\n\n```python\n{code}\n```\n\nOutro. " + "Слово " * 400
    check_prefix_stability(doc, 1500, stride=23)
