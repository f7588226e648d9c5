"""Offline Qwen tokenizer (the BPE table shipped inside the ``dashscope`` package).

``count_chat`` reproduces the prompt size of Qwen's ChatML template, which is what the
fake Gonka server reports as ``usage.prompt_tokens``.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tiktoken

PAT_STR = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
SPECIAL_TOKENS_PER_MESSAGE = 2  # <|im_start|> and <|im_end|>


def _table_path() -> Path:
    spec = importlib.util.find_spec("dashscope")  # locate without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("dashscope is not installed: it ships the Qwen BPE table")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "qwen.tiktoken"


@functools.cache
def encoding() -> tiktoken.Encoding:
    ranks: dict[bytes, int] = {}
    for line in _table_path().read_text(encoding="ascii").splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding("qwen", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens={})


def count_text(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def content_text(content: Any) -> str:
    """Text of an OpenAI message ``content``: a string, None, or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return str(content)


def count_chat(messages: Iterable[Mapping[str, Any]]) -> int:
    """Tokens of ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per message + generation prompt."""
    total = 0
    for message in messages:
        role = str(message.get("role", "user"))
        total += SPECIAL_TOKENS_PER_MESSAGE + count_text(f"{role}\n")
        total += count_text(content_text(message.get("content"))) + count_text("\n")
    return total + 1 + count_text("assistant\n")


def truncate_to_tokens(text: str, budget: int) -> str:
    """Longest prefix of ``text`` (on a character boundary) within ``budget`` tokens."""
    if budget <= 0:
        return ""
    tokens = encoding().encode_ordinary(text)
    if len(tokens) <= budget:
        return text
    raw = b"".join(encoding().decode_tokens_bytes(tokens[:budget]))
    return raw.decode("utf-8", errors="ignore")
