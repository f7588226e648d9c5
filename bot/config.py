"""Settings from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.config_tools import ToolSettings


class Settings(ToolSettings, BaseSettings):
    """All configuration of the bot. Contract names (BOT_TOKEN, GONKA_*, ...) must not change."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    gonka_api_key: SecretStr
    gonka_base_url: str = "https://proxy.gonka.gg/v1"
    gonka_model: str = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
    redis_url: str | None = None
    redis_key_prefix: str = "gonka"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()

    system_prompt: str = (
        "You are a helpful assistant in a Telegram chat. Answer in the language of the user. "
        "Use Markdown for formatting when it helps."
    )
    context_token_budget: int = Field(default=16000, ge=512)
    max_tokens: int = Field(default=2048, ge=1)
    temperature: float | None = None

    upstream_connect_timeout: float = Field(default=10.0, gt=0)
    upstream_read_timeout: float = Field(default=120.0, gt=0)
    upstream_max_retries: int = Field(default=2, ge=0)
    stream_read_interval: float = Field(default=0.1, ge=0, le=1.0)
    upstream_retry_budget: float = Field(default=10.0, ge=0)
    answer_timeout: float = Field(default=300.0, gt=0)
    content_idle_timeout: float = Field(default=120.0, gt=0)

    price_per_million_tokens: float = Field(default=0.00123, ge=0)

    use_drafts: bool = True
    private_edit_interval: float = Field(default=1.0, gt=0)
    private_edit_burst: int = Field(default=2, ge=1)
    group_edit_interval: float = Field(default=3.0, gt=0)
    draft_interval: float = Field(default=0.8, gt=0)
    draft_burst: int = Field(default=2, ge=1)
    show_reasoning: Literal["folded", "hidden"] = "folded"
    message_limit: int = Field(default=4096, ge=64, le=4096)
    rich_messages: bool = True
    rich_drafts: bool = True

    model_list_ttl: float = Field(default=300.0, ge=0)
    model_fallbacks: Annotated[tuple[str, ...], NoDecode] = ()
    users_can_pick_model: bool = True

    access_mode: Literal["open", "allowlist"] = "open"
    allowed_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    allowed_chat_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    daily_token_quota: int = Field(default=0, ge=0)
    monthly_token_quota: int = Field(default=0, ge=0)
    flood_messages: int = Field(default=5, ge=0)
    flood_window: float = Field(default=10.0, gt=0)
    admin_alert_interval: float = Field(default=3600.0, ge=0)

    log_level: str = "INFO"

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    http_host: str = "0.0.0.0"
    http_port: int | None = Field(default=None, ge=0, le=65535)
    chat_lock_ttl: float = Field(default=30.0, ge=1)
    shutdown_grace: float = Field(default=30.0, ge=0)

    @field_validator("model_fallbacks", mode="before")
    @classmethod
    def _parse_names(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET is required with WEBHOOK_URL")
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return self

    @property
    def listen_port(self) -> int | None:
        """Where the HTTP server listens: HTTP_PORT, else 8080 in webhook mode, else nowhere."""
        if self.http_port is not None:
            return self.http_port
        return 8080 if self.webhook_url else None

    @field_validator("admin_ids", "allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    # --- Inputs (issue 16): split pastes and albums, documents, photos, stickers ---------------
    coalesce_window: float = Field(default=1.0, ge=0, le=10.0)
    coalesce_settle: float = Field(default=0.3, ge=0, le=10.0)
    coalesce_max_wait: float = Field(default=3.0, ge=0, le=30.0)
    coalesce_near_limit: int = Field(default=3500, ge=1, le=4096)
    document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=20 * 1024 * 1024)
    document_max_pages: int = Field(default=50, ge=1)
    document_tokens: int = Field(default=6000, ge=100)
    document_history_tokens: int = Field(default=1500, ge=0)
    vision_models: Annotated[tuple[str, ...], NoDecode] = ()
    quick_reply_window: float = Field(default=10.0, ge=0)

    @field_validator("vision_models", mode="before")
    @classmethod
    def _parse_vision_models(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
