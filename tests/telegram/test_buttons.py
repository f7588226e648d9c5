"""Every button's data is built and parsed by its CallbackData class."""

from __future__ import annotations

from bot.telegram.buttons import (
    ChatModelButton,
    ContinueButton,
    DefaultModelButton,
    StopButton,
    model_tag,
)


def test_button_data_round_trips_and_fits_in_64_bytes() -> None:
    for button in (
        StopButton(generation="a1b2c3d4e5f6"),
        ContinueButton(generation="a1b2c3d4e5f6"),
        ChatModelButton(tag=model_tag("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8")),
        DefaultModelButton(tag="-"),
    ):
        data = button.pack()
        assert len(data.encode()) <= 64
        assert type(button).unpack(data) == button


def test_the_data_keeps_the_prefixes_of_buttons_already_in_chats() -> None:
    assert StopButton(generation="x").pack() == "stop:x"
    assert ContinueButton(generation="x").pack() == "cont:x"
    assert ChatModelButton(tag="t").pack() == "mc:t"
    assert DefaultModelButton(tag="t").pack() == "md:t"
