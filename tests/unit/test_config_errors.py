"""Configuration errors read as one line naming the upper-case variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from bot.config import Settings, config_error

BASE = {"bot_token": "123:abc", "gonka_api_key": "k"}


def _error(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **{**BASE, **values})  # type: ignore[arg-type]
    return config_error(caught.value)


def test_a_model_level_error_keeps_its_message() -> None:
    # Its error has no field: the message was lost in an IndexError.
    text = _error(webhook_url="https://example.org/hook")
    assert text.startswith("Invalid configuration: WEBHOOK_SECRET is required with WEBHOOK_URL")
    assert "\n" not in text


def test_field_errors_name_the_variable_in_upper_case() -> None:
    assert _error(max_tokens=0).startswith("Invalid configuration: MAX_TOKENS: ")
    assert "LOG_LEVEL: Input should be 'DEBUG'" in _error(log_level="verbose")
    assert Settings(_env_file=None, **BASE, log_level="debug").log_level == "DEBUG"  # type: ignore[arg-type]


def test_an_undecodable_value_names_the_variable() -> None:
    error = SettingsError(
        'error parsing value for field "admin_ids" from source "EnvSettingsSource"'
    )
    assert "ADMIN_IDS" in config_error(error)


@pytest.mark.parametrize("field", ["admin_ids", "allowed_user_ids", "allowed_chat_ids"])
def test_a_non_numeric_id_list_says_what_a_valid_value_looks_like(field: str) -> None:
    # It printed Python's own "invalid literal for int() with base 10: 'abc'".
    text = _error(**{field: "123, abc"})
    assert text.startswith(f"Invalid configuration: {field.upper()}: ")
    assert "int()" not in text and "\n" not in text
    assert "'abc'" in text and "123456789,987654321" in text


def test_id_lists_accept_spaces_and_negative_chat_ids() -> None:
    settings = Settings(_env_file=None, **BASE, admin_ids="1, 2", allowed_chat_ids="-1001,5")  # type: ignore[arg-type]
    assert settings.admin_ids == frozenset({1, 2})
    assert settings.allowed_chat_ids == frozenset({-1001, 5})
