"""The jobs a worker may run, by name: "module:function" paths, imported in the worker only.

The bot's own process never imports these modules' heavy dependencies (pypdf, python-docx,
trafilatura, lxml): they are loaded in a worker on its first job of that kind.
"""

from __future__ import annotations

JOBS: dict[str, str] = {
    "read_document": "bot.adapters.documents:extract",
    "page_text": "bot.adapters.page_text:readable",
    "calculate": "bot.adapters.tools.calculate:evaluate",
    "render_chart": "bot.adapters.usage_chart:render",
}
