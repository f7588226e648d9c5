"""Move texts written the old way (a `TEXTS = {key: {"en": ..., "ru": ...}}` dict in a Python
file) into the gettext catalogs: every key missing from a catalog is appended to it.

    python scripts/texts_from_dict.py old_texts.py [--locales bot/locales]

A language the dict has no text for gets the English one marked fuzzy: it is not shown (the
English fallback is) and tests/unit/test_texts.py fails until someone translates it.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

DEFAULT = "en"


def read_dict(path: Path) -> dict[str, dict[str, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(getattr(target, "id", None) == "TEXTS" for target in targets):
            value = ast.literal_eval(node.value)
            return {str(key): dict(texts) for key, texts in value.items()}
    raise SystemExit(f"{path}: no TEXTS = {{...}} found")


def add_missing(texts: dict[str, dict[str, str]], po: Path) -> list[str]:
    """Append to one catalog the keys it lacks; returns them."""
    lang = po.parent.parent.name
    with po.open("rb") as fp:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}
    new = Catalog(locale=lang)
    added = []
    for key, by_lang in texts.items():
        if key in have:
            continue
        text = by_lang.get(lang)
        new.add(key, text or by_lang[DEFAULT], flags=() if text else ("fuzzy",))
        added.append(key)
    if added:
        buffer = io.BytesIO()
        write_po(buffer, new, width=100, omit_header=True, include_lineno=False)
        kept = po.read_bytes().rstrip(b"\n")
        po.write_bytes(kept + b"\n\n" + buffer.getvalue().rstrip(b"\n") + b"\n")
    return added


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--locales", type=Path, default=Path("bot/locales"))
    args = parser.parse_args(argv)
    texts = read_dict(args.source)
    for po in sorted(args.locales.glob("*/LC_MESSAGES/messages.po")):
        added = add_missing(texts, po)
        print(f"{po}: {len(added)} added {' '.join(added)}".rstrip())


if __name__ == "__main__":
    main(sys.argv[1:])
