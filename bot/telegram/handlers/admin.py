"""Admin commands: /stats (/usage all), /allow, /block, /unblock, /quota (and /refund, in
handlers.payments). Refused for others."""

from __future__ import annotations

from typing import Literal

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.access import Gate
from bot.core.monitor import MonitorSnapshot
from bot.core.payment_ledger import PaymentLedger
from bot.core.stats import StatsService
from bot.core.voice import SpeechReport
from bot.telegram.handlers.commands import speech_lines, usage_line
from bot.telegram.notices import Notices
from bot.telegram.rights import Holds
from bot.telegram.texts import Lang, number, t
from bot.telegram.turn import Turn
from bot.telegram.usage_pictures import UsagePictures

ACCESS_COMMANDS = ("allow", "block", "unblock")
ADMIN_COMMANDS = ("stats", "quota", "refund", *ACCESS_COMMANDS)
_USAGE_ALL = Command("usage", magic=F.args.lower() == "all")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _upstream(healthy: bool, monitor: MonitorSnapshot, lang: Lang) -> str:
    errors = ", ".join(f"{kind} {count}" for kind, count in sorted(monitor.errors.items()))
    return t(
        "stats_upstream",
        lang,
        health=t("health_ok" if healthy else "health_bad", lang),
        p50=_seconds(monitor.ttft_p50),
        p95=_seconds(monitor.ttft_p95),
        samples=monitor.samples,
        errors=errors or t("none", lang),
    )


async def _stats_text(stats: StatsService, price: float, lang: Lang) -> str:
    report = await stats.report()
    lines = []
    for name, period in zip(
        ("stats_today", "stats_month", "stats_all"), report.periods, strict=True
    ):
        lines.append(
            t(
                "stats_period",
                lang,
                name=t(name, lang),
                usage=usage_line(period.usage, price, lang),
                requests=t("stats_requests", lang, requests=period.requests),
                active=t("stats_active_users", lang, active=period.active_users),
            )
        )
    month = report.periods[1]
    if month.models:
        lines += ["", t("stats_models", lang)]
        ranked = sorted(month.models.items(), key=lambda item: -item[1].total_tokens)
        lines += [f"{model}: {usage_line(usage, price, lang)}" for model, usage in ranked]
    if month.top_users:
        lines += ["", t("stats_top_users", lang)]
        lines += [f"{user_id}: {number(tokens, lang)}" for user_id, tokens in month.top_users]
    if month.top_chats:
        lines += ["", t("stats_top_chats", lang)]
        lines += [f"{chat_id}: {number(tokens, lang)}" for chat_id, tokens in month.top_chats]
    lines += ["", _upstream(report.healthy, report.monitor, lang)]
    return "\n".join(lines)


def _target(turn: Turn, args: str | None) -> tuple[Literal["user", "chat"], int] | None:
    """A positive id is a user, a negative one a group; no id in a group means that group."""
    text = (args or "").strip()
    if not text:
        return None if turn.private else ("chat", turn.chat_id)
    try:
        owner_id = int(text)
    except ValueError:
        return None
    return ("chat", owner_id) if owner_id < 0 else ("user", owner_id)


def _quota_value(text: str) -> int | None:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


async def cmd_stats(
    message: Message,
    turn: Turn,
    lang: Lang,
    stats: StatsService,
    notices: Notices,
    price_per_million: float,
    payments: PaymentLedger,
    speech: SpeechReport | None = None,
    pictures: UsagePictures | None = None,
) -> None:
    text = await _stats_text(stats, price_per_million, lang)
    if payments.catalog.for_sale:
        stars = await payments.totals()
        text += t(
            "stats_stars", lang, received=t("n_stars", lang, stars=stars.received),
            refunded=t("n_stars", lang, stars=stars.refunded),
            used=t("n_tokens", lang, tokens=stars.paid_tokens_used),
        )  # fmt: skip
    await notices.notify(turn, text + await speech_lines(speech, None, lang))
    if pictures is not None:
        await pictures.send_stats(turn)


async def cmd_access(
    message: Message, command: CommandObject, turn: Turn, lang: Lang, gate: Gate, notices: Notices
) -> None:
    target = _target(turn, command.args)
    if target is None:
        await notices.notify(turn, t("admin_usage_hint", lang, command=command.command))
        return
    kind, owner_id = target
    action = getattr(gate, command.command)
    await action(kind, owner_id)
    await notices.notify(
        turn, t("admin_done", lang, action=command.command, kind=kind, id=owner_id)
    )


async def cmd_quota(
    message: Message, command: CommandObject, turn: Turn, lang: Lang, gate: Gate, notices: Notices
) -> None:
    parts = (command.args or "").split()
    try:
        user_id = int(parts[0])
        if parts[1:] == ["reset"]:
            daily = monthly = None
        else:
            daily, monthly = _quota_value(parts[1]), _quota_value(parts[2])
    except (IndexError, ValueError):
        await notices.notify(turn, t("quota_usage_hint", lang))
        return
    await gate.set_quota(user_id, daily, monthly)
    shown = {
        k: t("quota_default", lang) if v is None else v for k, v in (("d", daily), ("m", monthly))
    }
    await notices.notify(
        turn, t("quota_set", lang, id=user_id, daily=shown["d"], monthly=shown["m"])
    )


async def refuse(message: Message, turn: Turn, lang: Lang, notices: Notices) -> None:
    await notices.notify(turn, t("admins_only", lang))


def router() -> Router:
    """The admin router: its filter is set once, for every handler in it."""
    admin = Router(name="admin")
    admin.message.filter(Holds("bot_admin"))
    admin.message.register(cmd_stats, Command("stats"))
    admin.message.register(cmd_stats, _USAGE_ALL)
    admin.message.register(cmd_access, Command(*ACCESS_COMMANDS))
    admin.message.register(cmd_quota, Command("quota"))
    return admin


def refusals() -> Router:
    """After the admin router: the same commands from anybody else are refused in words."""
    refused = Router(name="admin-refusals")
    refused.message.register(refuse, Command(*ADMIN_COMMANDS))
    refused.message.register(refuse, _USAGE_ALL)
    return refused
