"""Markdown to Telegram: entities, rich-message Markdown, splitting, reasoning tags."""
