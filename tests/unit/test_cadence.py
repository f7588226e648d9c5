"""The cadence of answers on screen is one object built from the settings (issue 20)."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.telegram.pacing import Cadence, Rate


def test_the_cadence_is_built_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "BOT_TOKEN": "1:x", "GONKA_API_KEY": "k", "DRAFT_INTERVAL": "0.5", "DRAFT_BURST": "3",
        "PRIVATE_EDIT_INTERVAL": "1.5", "PRIVATE_EDIT_BURST": "4", "GROUP_EDIT_INTERVAL": "4",
        "DRAFT_KEEPALIVE": "15", "TYPING_INTERVAL": "4",
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cadence = Cadence.of(Settings(_env_file=None))  # type: ignore[call-arg]
    assert (cadence.draft, cadence.private_edit, cadence.group_edit) == (
        Rate(0.5, 3), Rate(1.5, 4), Rate(4.0, 1)
    )  # fmt: skip
    assert (cadence.draft_keepalive, cadence.typing_every) == (15.0, 4.0)
    assert cadence.bot == Rate(1 / 24, 3) and cadence.reserve == 1


def test_a_draft_keepalive_past_telegrams_expiry_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    monkeypatch.setenv("GONKA_API_KEY", "k")
    monkeypatch.setenv("DRAFT_KEEPALIVE", "40")
    with pytest.raises(ValueError, match="draft_keepalive"):
        Settings(_env_file=None)  # type: ignore[call-arg]
