"""The Gate with in-memory stores: access lists, flood control and quotas."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.access import AccessPolicy, Denial, Gate, Right
from bot.core.models import Usage
from tests.fakes import MemoryAccess, MemoryUsage

NOW = datetime(2026, 5, 17, 12, 0, tzinfo=UTC)
ADMIN, USER, GROUP = 1, 7, -100


def _gate(policy: AccessPolicy, usage: MemoryUsage | None = None) -> tuple[Gate, MemoryAccess]:
    usage = usage or MemoryUsage()
    store = MemoryAccess(usage)
    clock = [1000.0]
    gate = Gate(policy, store, usage, clock=lambda: NOW, wall=lambda: clock[0])
    return gate, store


async def _check(gate: Gate, user_id: int, chat_id: int, private: bool) -> Denial | None:
    """None when the turn may go upstream; otherwise the reason."""
    return (await gate.admit(user_id, chat_id, private)).denial


async def test_blocks_and_allowlists() -> None:
    gate, _ = _gate(AccessPolicy(admins=frozenset({ADMIN}), mode="allowlist"))
    denial = await _check(gate, USER, USER, private=True)
    assert denial is not None and denial.text_key == "access_denied"
    await gate.allow("user", USER)
    assert await _check(gate, USER, USER, private=True) is None
    await gate.block("chat", GROUP)
    denial = await _check(gate, USER, GROUP, private=False)
    assert denial is not None and denial.text_key == "access_chat_blocked"
    assert await _check(gate, ADMIN, GROUP, private=False) is None  # admins always pass


async def test_flood_control_counts_attempts_in_the_window() -> None:
    gate, _ = _gate(AccessPolicy(admins=frozenset(), flood_messages=2, flood_window=10))
    assert await _check(gate, USER, USER, True) is None
    assert await _check(gate, USER, USER, True) is None
    denial = await _check(gate, USER, USER, True)
    assert denial is not None and denial.text_key == "slow_down"


async def test_a_spent_quota_refuses_until_it_resets() -> None:
    usage = MemoryUsage()
    gate, _ = _gate(AccessPolicy(admins=frozenset(), daily_quota=100), usage)
    assert await _check(gate, USER, USER, True) is None
    await usage.add(USER, "m", Usage(60, 40), NOW)
    denial = await _check(gate, USER, USER, True)
    assert denial is not None and denial.text_key == "quota_day"
    await gate.set_quota(USER, 0, None)  # this user: no daily quota
    assert await _check(gate, USER, USER, True) is None


def test_who_manages_a_chat() -> None:
    gate, _ = _gate(AccessPolicy(admins=frozenset({ADMIN}), users_pick_models=False))
    assert gate.may("manage_chat", USER, private=True)
    assert not gate.may("manage_chat", USER, private=False)
    assert gate.may("manage_chat", USER, private=False, group_admin=True)
    assert gate.may("manage_chat", ADMIN, private=False)
    assert not gate.may("pick_model", USER, private=True)


def test_every_right_in_one_table() -> None:
    gate, _ = _gate(AccessPolicy(admins=frozenset({ADMIN}), users_pick_models=True))
    rights: tuple[Right, ...] = ("bot_admin", "group_admin", "manage_chat", "pick_model")
    # (who, private, group admin) -> the rights held, in the order above
    table = {
        (ADMIN, True, False): (True, True, True, True),
        (ADMIN, False, False): (True, True, True, True),
        (USER, True, False): (False, False, True, True),
        (USER, False, False): (False, False, False, False),
        (USER, False, True): (False, True, True, True),
    }
    for (user, private, group_admin), held in table.items():
        got = tuple(gate.may(right, user, private, group_admin) for right in rights)
        assert got == held, (user, private, group_admin)
