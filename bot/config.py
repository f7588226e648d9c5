"""Settings from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from bot.config_stars import StarsSettings
from bot.config_tools import EmptyToolsSource, ToolSettings

# aiogram's own check (digits, a colon, a secret) and the characters BotFather uses.
TOKEN_FORMAT = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")


class Settings(StarsSettings, ToolSettings, BaseSettings):
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
    # Most connections to Redis at once; more callers wait up to REDIS_POOL_TIMEOUT seconds.
    redis_max_connections: int = Field(default=100, ge=1)
    redis_pool_timeout: float = Field(default=5.0, gt=0)
    # Without REDIS_URL: where the embedded store keeps its snapshot (empty: memory only), and
    # how often at most it is written (a crash loses at most this many seconds).
    data_dir: Path | None = Path("data")
    snapshot_interval: float = Field(default=2.0, gt=0)
    # Days of inactivity after which a chat's history and settings, and a user's or chat's
    # all-time usage and the bot's all-time stats, expire (0: never).
    data_ttl_days: int = Field(default=180, ge=0)
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()

    system_prompt: str = (
        "You are a helpful assistant in a Telegram chat. Answer in the language of the user. "
        "Use Markdown for formatting when it helps."
    )
    # Operators' chat modes (TOML or JSON): they add to or replace the built-in ones (/mode).
    modes_file: Path | None = None
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
    draft_keepalive: float = Field(default=20.0, gt=0, le=28.0)
    typing_interval: float = Field(default=4.5, gt=0)
    show_reasoning: Literal["folded", "hidden"] = "folded"
    message_limit: int = Field(default=4096, ge=64, le=4096)
    rich_messages: bool = True
    rich_drafts: bool = True
    # Inline mode (`@bot question` in any chat): off leaves inline queries unanswered.
    inline_mode: bool = True
    inline_max_tokens: int = Field(default=700, ge=1)

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

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # /healthz, /readyz and /metrics: local by default (they need no caller from outside).
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, ge=0, le=65535)
    # The webhook listener: public by default, Telegram must reach it.
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    # Updates handled at once by one process (polling and webhook alike); the rest wait.
    max_concurrent_updates: int = Field(default=64, ge=1)
    # Seconds each start-up check (Telegram getMe, the model list, Redis) may take.
    startup_timeout: float = Field(default=10.0, gt=0)
    chat_lock_ttl: float = Field(default=30.0, ge=1)
    shutdown_grace: float = Field(default=30.0, ge=0)

    @field_validator("bot_token")
    @classmethod
    def _token_format(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_FORMAT.fullmatch(value.get_secret_value()):
            raise ValueError(
                "not a bot token: @BotFather gives one like 123456789:AAH... (digits, a colon, "
                "then letters, digits, _ and -; no quotes or spaces)"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # An empty variable in the environment switches an optional setting off even when .env
        # sets it (`REDIS_URL= make run`); other empty variables still mean "the default".
        return (
            init_settings,
            env_settings,
            # `TOOLS=` means "no tools", not "the default tools": it goes first.
            EmptyToolsSource(settings_cls, getattr(dotenv_settings, "env_file", None)),
            _EmptyEnvSwitchesOff(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @field_validator("model_fallbacks", "vision_models", mode="before")
    @classmethod
    def _parse_names(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL (1-256 characters of A-Z, a-z, "
                "0-9, _ and -)"
            )
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return self

    def secrets(self) -> list[str]:
        """Every secret value configured, for the log redaction filter."""
        values = [
            self.bot_token, self.gonka_api_key, self.webhook_secret, self.transcribe_api_key,
        ]  # fmt: skip
        found = [v.get_secret_value() for v in values if v is not None]
        if self.redis_url:
            password = urlsplit(self.redis_url).password
            found.append(password or "")
        return [value for value in found if value]

    @field_validator("admin_ids", "allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part for part in value.replace(" ", "").split(",") if part]
            wrong = [part for part in parts if not re.fullmatch(r"-?[0-9]+", part)]
            if wrong:
                raise ValueError(
                    f"{wrong[0]!r} is not a numeric Telegram id: give comma-separated numbers, "
                    "like 123456789,987654321 (a group's id starts with -100)"
                )
            return frozenset(int(part) for part in parts)
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
    # --- Worker processes (issue 25): documents, page text and calculate, with limits ---------
    worker_processes: int = Field(default=2, ge=1, le=32)
    worker_job_timeout: float = Field(default=30.0, gt=0, le=600)
    worker_memory_mb: int = Field(default=768, ge=0)
    worker_max_jobs: int = Field(default=8, ge=1)
    worker_user_jobs: int = Field(default=2, ge=1)
    worker_idle_seconds: float = Field(default=120.0, gt=0)
    # --- Voice (issue 22): an OpenAI-compatible /audio/transcriptions endpoint; unset: off ------
    transcribe_base_url: str | None = None
    transcribe_api_key: SecretStr | None = None
    transcribe_model: str = "whisper-1"
    transcribe_max_seconds: int = Field(default=300, ge=1, le=4 * 3600)
    transcribe_price_per_minute: float = Field(default=0.0, ge=0)
    # /usage and /stats attach a picture of the last 30 days (drawn in a worker process).
    usage_pictures: bool = True


def config_error(exc: ValidationError | SettingsError) -> str:
    """One line for invalid settings, naming the upper-case variables."""
    if isinstance(exc, SettingsError):  # a value pydantic-settings could not even decode
        named = re.sub(r'field "(\w+)"', lambda m: m.group(1).upper(), str(exc))
        return f"Invalid configuration: {named}"
    missing = sorted(str(e["loc"][0]).upper() for e in exc.errors() if e["type"] == "missing")
    if missing:
        return f"Set {' and '.join(missing)} in the environment or in .env (see .env.example)."
    lines = []
    for err in exc.errors():
        message = err["msg"].removeprefix("Value error, ")
        # A model validator has no field (loc is empty): its message names the variables.
        name = ".".join(str(part) for part in err["loc"]).upper()
        lines.append(f"{name}: {message}" if name else message)
    return "Invalid configuration: " + "; ".join(lines)


class _EmptyEnvSwitchesOff(PydanticBaseSettingsSource):
    """None for each optional setting whose variable is set but empty in the environment."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {
            name: None
            for name, info in self.settings_cls.model_fields.items()
            if type(None) in get_args(info.annotation) and os.environ.get(name.upper()) == ""
        }
