"""How one answer is laid out in messages: pieces under the limit, reasoning, closing notes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.models import Reply
from bot.formatting.reasoning import reasoning_tail
from bot.formatting.render import Rendered, render_folded, render_markdown, split_markdown
from bot.formatting.render_prefix import PrefixRenderer
from bot.formatting.rich_markdown import RICH_TEXT_LIMIT, escape_html, escape_text, make_safe
from bot.formatting.rich_split import split_rich as _split_rich
from bot.formatting.utf16 import utf16_len

# Room kept free in every piece for the closing note ("Stopped", "interrupted", ...).
NOTE_RESERVE = 160
REASONING_SHOWN = 1000
THINKING_SHOWN = 300  # reasoning tail in the rich draft's thinking block
# Room kept in every rich piece for the folded reasoning and the closing note.
RICH_RESERVE = 2 * REASONING_SHOWN + 600
HEADS_KEPT = 8  # rendered heads of the answer's pieces, kept while it streams


def _prefix_renderer() -> PrefixRenderer:
    return PrefixRenderer(render_markdown, size=HEADS_KEPT)


@dataclass(frozen=True, slots=True)
class Layout:
    """Pure: turns the answer so far (or the final Reply) into what each message shows."""

    limit: int
    show_reasoning: bool
    notes: Mapping[str, str]
    # One a layout (an answer): each draft renders the answer's closed paragraphs once.
    _markdown: PrefixRenderer = field(default_factory=_prefix_renderer, compare=False, repr=False)

    def note(self, key: str) -> str:
        return self.notes.get(key, "")

    # -- text + entities -----------------------------------------------------------------------

    def pieces(self, text: str, reasoning: str) -> list[str]:
        return split_markdown(text, self._piece_limit(reasoning))

    def piece(self, pieces: list[str], index: int, reasoning: str) -> Rendered:
        content = self._markdown.render(pieces[index])
        return self.with_reasoning(content, reasoning) if index == 0 else content

    def with_reasoning(self, content: Rendered, reasoning: str) -> Rendered:
        if not (reasoning and self.show_reasoning):
            return content
        return self.reasoning_block(reasoning) + Rendered("\n\n") + content

    def reasoning_block(self, reasoning: str) -> Rendered:
        return render_folded(reasoning_tail(reasoning, REASONING_SHOWN))

    def preview(self, text: str, reasoning: str) -> Rendered | None:
        """The live piece: the last one of the text, the reasoning before it, or nothing."""
        if not text:
            return self.reasoning_block(reasoning) if reasoning and self.show_reasoning else None
        pieces = self.pieces(text, reasoning)
        return self.piece(pieces, len(pieces) - 1, reasoning)

    @staticmethod
    def with_status(content: Rendered | None, status: str) -> Rendered | None:
        """The live piece with the running tools' lines after it (never in the final answer)."""
        if not status:
            return content
        line = Rendered(status)
        return line if content is None else content + Rendered("\n\n") + line

    def closing(self, outcome: str) -> str:
        """The final answer's closing note: how it ended, then the footer (the chat's mode)."""
        return "\n".join(note for note in (self.note(outcome), self.note("footer")) if note)

    def final(self, reply: Reply) -> list[Rendered]:
        text = reply.text.strip()
        note = self.closing(reply.outcome)
        if not text:
            return [Rendered(note or self.note("empty"))]
        pieces = self.pieces(text, reply.reasoning)
        rendered = [self.piece(pieces, i, reply.reasoning) for i in range(len(pieces))]
        return self.noted(rendered, note)

    @staticmethod
    def noted(rendered: list[Rendered], note: str) -> list[Rendered]:
        if note:
            rendered[-1] = rendered[-1] + Rendered("\n\n" + note)
        return rendered

    def _piece_limit(self, reasoning: str) -> int:
        reserve = NOTE_RESERVE
        if self.show_reasoning and reasoning:
            reserve += utf16_len(reasoning[-REASONING_SHOWN:]) + 8
        return max(256, self.limit - reserve)

    # -- rich messages -------------------------------------------------------------------------

    @staticmethod
    def rich_pieces(text: str) -> list[str]:
        return _split_rich(text, RICH_TEXT_LIMIT - RICH_RESERVE)

    def rich_preview(self, text: str, reasoning: str, tools: str = "") -> str:
        """The rich draft: a thinking block until the answer starts, then the answer so far.
        The running tools' lines go in the thinking block (in italics after the text, when the
        model said something before calling them)."""
        if not text:
            status = self.note("thinking")
            if reasoning and self.show_reasoning:
                status = reasoning_tail(reasoning, THINKING_SHOWN, strip=True)
            if tools:
                status = f"{status}\n{tools}" if reasoning and self.show_reasoning else tools
            return f"<tg-thinking>{escape_html(status)}</tg-thinking>"
        answer = make_safe(self.rich_pieces(text)[-1])
        if not tools:
            return answer
        lines = "\n".join(f"_{escape_text(line)}_" for line in tools.splitlines())
        return f"{answer}\n\n{lines}"

    def rich_piece(self, piece: str, first: bool, reasoning: str, note: str) -> str:
        markdown = make_safe(piece)
        if first:
            markdown = self._rich_reasoning(reasoning) + markdown
        if note:
            markdown += "\n\n_" + escape_text(note) + "_"
        return markdown

    def _rich_reasoning(self, reasoning: str) -> str:
        if not (reasoning.strip() and self.show_reasoning):
            return ""
        tail = reasoning_tail(reasoning, REASONING_SHOWN, strip=True)
        # Plain text only: formulas inside <details> crash some Telegram Desktop versions.
        summary = escape_html(self.note("reasoning"))
        return f"<details><summary>{summary}</summary>\n\n{escape_text(tail)}\n\n</details>\n\n"

    def rich_as_text(self, piece: str, first: bool, reasoning: str, note: str) -> list[Rendered]:
        """A rich piece refused by Telegram, for the entity path (split at the text limit)."""
        parts = [render_markdown(p) for p in self.pieces(piece, reasoning)]
        if first:
            parts[0] = self.with_reasoning(parts[0], reasoning)
        return self.noted(parts, note)
