"""Per-user notices in groups as ephemeral messages (Bot API 10.3), ordinary replies as fallback."""

from __future__ import annotations

from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import Env

GROUP = -100900
ALICE = 501


async def test_usage_after_an_ephemeral_command_is_seen_only_by_its_caller(env: Env) -> None:
    env.gonka.enqueue(Reply(text="Hi."))
    await env.telegram.send_text(GROUP, "@fake_llm_bot hi", user_id=ALICE, chat_type="supergroup")
    await env.wait_replies(1, GROUP)
    await env.telegram.send_ephemeral_command(GROUP, "/usage", user_id=ALICE)
    notices = await env.telegram.wait_for(lambda: env.telegram.ephemeral_messages(GROUP, ALICE))
    assert "Your usage" in (notices[0].text or "")
    assert "This group" in (notices[0].text or "")
    assert len(env.visible(GROUP)) == 1  # nothing new for everyone else
    [call] = [c for c in env.telegram.calls_of("sendMessage") if c.status == 200][-1:]
    assert call.params["ephemeral_message_parameters"] == {"receiver_user_id": ALICE}


async def test_refused_ephemeral_notice_becomes_an_ordinary_reply(env: Env) -> None:
    env.telegram.fail_next(
        "sendMessage", status=400, description="Bad Request: message to be replied not found"
    )
    await env.telegram.send_ephemeral_command(GROUP, "/usage", user_id=ALICE)
    await env.wait_replies(1, GROUP)
    assert "Your usage" in env.visible_texts(GROUP)[0]
    assert env.telegram.ephemeral_messages(GROUP, ALICE) == []
