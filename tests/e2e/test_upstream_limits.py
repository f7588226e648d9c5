"""An answer on time and bounded, and upstream failures told honestly, end to end."""

from __future__ import annotations

import socket
import time

from tests.doubles.fake_gonka import LITELLM_HEALTH_UNHEALTHY, Reply
from tests.e2e.conftest import FAST, USER, Env, EnvFactory

ADMIN = 9001
QWEN = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
DEEPSEEK = "deepseek-ai/DeepSeek-V3.1"


def _history_answer(env: Env) -> str:
    """The assistant entry the bot sent with its last request (the stored history)."""
    answers = [m["content"] for m in env.upstream_messages() if m["role"] == "assistant"]
    return str(answers[-1])


async def test_keep_alive_comments_without_content_do_not_block_the_chat(
    make_env: EnvFactory,
) -> None:
    partial = "The first part of the answer arrives, "
    async with make_env(**FAST, content_idle_timeout=0.6, answer_timeout=30) as env:
        env.gonka.enqueue(
            Reply(text=partial + "and the rest never does.", stall_after=len(partial))
        )
        started = time.monotonic()
        await env.telegram.send_text(USER, "hello?")
        await env.wait_replies(1, timeout=8)
        assert time.monotonic() - started < 5
        shown = env.visible_texts()[-1]
        assert shown.startswith(env.gonka.request_log[0].sent_content.strip())
        assert "stopped answering in time" in shown
        assert env.gonka.request_log[0].client_disconnected  # the stream was closed
        env.gonka.enqueue(Reply(text="Fine now."))
        await env.telegram.send_text(USER, "again")
        await env.wait_replies(2)
        assert env.visible_texts()[-1] == "Fine now."
        sent = env.gonka.request_log[0].sent_content.strip()
        assert sent.startswith(partial.strip())
        assert _history_answer(env) == sent  # the partial text is in history


async def test_keep_alive_only_is_a_timeout_for_the_user(make_env: EnvFactory) -> None:
    async with make_env(**FAST, content_idle_timeout=0.5, answer_timeout=30) as env:
        env.gonka.enqueue(Reply(text="never", stall_after=0), Reply(text="Back."))
        await env.telegram.send_text(USER, "hello?")
        await env.wait_replies(1, timeout=8)
        assert "took too long" in env.visible_texts()[-1]
        await env.telegram.send_text(USER, "again")
        await env.wait_replies(2)
        assert env.visible_texts()[-1] == "Back."


async def test_the_whole_answer_has_a_deadline(make_env: EnvFactory) -> None:
    # Content keeps coming (so the idle timeout never fires), but slower than the deadline.
    text = "".join(f"word{i} " for i in range(400))
    async with make_env(**FAST, answer_timeout=1.0, content_idle_timeout=30) as env:
        env.gonka.enqueue(Reply(text=text, chunk_chars=6, token_delay=0.02))
        started = time.monotonic()
        await env.telegram.send_text(USER, "tell me everything")
        await env.wait_replies(1, timeout=8)
        assert time.monotonic() - started < 4
        shown = env.visible_texts()[-1]
        assert shown.startswith("word0 word1") and "stopped answering in time" in shown
        assert env.gonka.request_log[0].client_disconnected


async def test_an_upstream_ignoring_max_tokens_is_cut_as_length(make_env: EnvFactory) -> None:
    # max_tokens 40 -> at most 400 characters; the upstream sends 20,000 (finish "stop").
    text = "".join(f"line {i:05d} of a runaway answer.\n" for i in range(600))
    async with make_env(**FAST, max_tokens=40) as env:
        env.gonka.enqueue(
            Reply(text=text, chunk_chars=200, token_delay=0.01, ignore_max_tokens=True)
        )
        await env.telegram.send_text(USER, "go")
        await env.wait_replies(1)
        final = env.visible()[-1]
        assert len(env.visible()) == 1
        assert len(final.text or "") < 600 and "length limit" in (final.text or "")
        assert final.reply_markup is not None  # Continue is offered
        assert env.gonka.request_log[0].client_disconnected
        await env.telegram.send_text(USER, "next")
        await env.wait_replies(2)
        stored = _history_answer(env)
        assert 0 < len(stored) <= 400 and text.startswith(stored)


async def test_litellm_invalid_model_400_falls_back_and_rereads_the_list(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST) as env:
        env.gonka.litellm_errors = True
        env.gonka.enqueue(Reply(text="first"))
        await env.telegram.send_text(USER, "one")
        await env.wait_replies(1)
        listed = env.gonka.model_list_calls
        env.gonka.models.remove(QWEN)  # cached list still has it: the request meets LiteLLM's 400
        await env.telegram.send_text(USER, "two")
        await env.wait_replies(3)
        notice, answer = env.visible_texts()[1:]
        assert f"{QWEN} is not available right now, so {DEEPSEEK} answers" in notice
        assert answer == "Echo: two"
        assert "/new" not in notice + answer
        assert [(r.body["model"], r.status) for r in env.gonka.request_log] == [
            (QWEN, 200),
            (QWEN, 400),
            (DEEPSEEK, 200),
        ]
        assert env.gonka.model_list_calls == listed + 1  # the catalogue was read again at once


async def test_other_400s_do_not_suggest_new(make_env: EnvFactory) -> None:
    async with make_env(**FAST, upstream_max_retries=0) as env:
        body = {"detail": "feature logprobs is currently rejected by the Gonka network"}
        env.gonka.enqueue(Reply.error(400, body))
        await env.telegram.send_text(USER, "hi")
        await env.wait_replies(1)
        shown = env.visible_texts()[-1]
        assert "rejected the request" in shown and "/new" not in shown


async def test_a_wrong_key_alerts_the_admins_once_and_only_then_says_so(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST, admin_ids=str(ADMIN), upstream_max_retries=0) as env:
        env.gonka.enqueue(Reply.error(401), Reply.error(401), Reply.error(402))
        await env.telegram.send_text(USER, "hi")
        await env.wait_replies(1)
        assert "owner has been notified" in env.visible_texts()[-1]
        alerts = env.visible_texts(ADMIN)
        assert len(alerts) == 1 and "GONKA_API_KEY" in alerts[0]
        await env.telegram.send_text(USER, "hi again")
        await env.wait_replies(2)
        assert "owner has been notified" in env.visible_texts()[-1]
        assert len(env.visible_texts(ADMIN)) == 1  # at most once an hour per kind
        await env.telegram.send_text(USER, "and now?")
        await env.wait_replies(3)
        assert "owner has been notified" in env.visible_texts()[-1]
        assert len(env.visible_texts(ADMIN)) == 2  # the balance is another kind


async def test_without_admins_nobody_claims_the_owner_was_notified(make_env: EnvFactory) -> None:
    async with make_env(**FAST, upstream_max_retries=0) as env:
        env.gonka.enqueue(Reply.error(401), Reply.error(402))
        await env.telegram.send_text(USER, "hi")
        await env.wait_replies(1)
        await env.telegram.send_text(USER, "hi")
        await env.wait_replies(2)
        assert not any("notified" in text for text in env.visible_texts())
        assert "cannot sign in" in env.visible_texts()[0]


async def test_an_admin_who_blocked_the_bot_is_not_claimed_notified(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=str(ADMIN), upstream_max_retries=0) as env:
        env.telegram.blocked_users.add(ADMIN)
        env.gonka.enqueue(Reply.error(401))
        await env.telegram.send_text(USER, "hi")
        await env.wait_replies(1)
        assert "notified" not in env.visible_texts()[-1]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_upstream_is_not_called_slow(make_env: EnvFactory) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    async with make_env(**FAST, gonka_base_url=url, upstream_max_retries=0) as env:
        await env.telegram.send_text(USER, "hi")
        await env.telegram.wait_for(lambda: env.visible_texts(), timeout=10)
        shown = env.visible_texts()[-1]
        assert "cannot reach the model service" in shown and "too long" not in shown


async def test_a_cut_stream_shows_and_stores_every_token_that_arrived(
    make_env: EnvFactory,
) -> None:
    # Tokens every 20 ms, reads every 300 ms: the FIN comes while the last ones wait unread.
    text = "".join(f"t{i:03d} " for i in range(120))
    async with make_env(**FAST, stream_read_interval=0.3) as env:
        env.gonka.enqueue(Reply(text=text, chunk_chars=5, token_delay=0.02, close_after=300))
        await env.telegram.send_text(USER, "go")
        await env.wait_replies(1)
        sent = env.gonka.request_log[0].sent_content
        assert len(sent) == 300
        shown = env.visible_texts()[-1]
        assert shown.startswith(sent.strip()) and "interrupted" in shown
        await env.telegram.send_text(USER, "next")
        await env.wait_replies(2)
        assert _history_answer(env) == sent.strip()


async def test_stats_reads_what_health_says_at_most_once_a_minute(make_env: EnvFactory) -> None:
    async with make_env(**FAST, admin_ids=frozenset({ADMIN})) as env:
        env.gonka.health_body = LITELLM_HEALTH_UNHEALTHY  # a 200 all the same
        await env.telegram.send_text(ADMIN, "/stats", user_id=ADMIN)
        await env.wait_replies(1, ADMIN)
        assert "Upstream: NOT healthy" in env.visible_texts(ADMIN)[-1]
        await env.telegram.send_text(ADMIN, "/stats", user_id=ADMIN)
        await env.wait_replies(2, ADMIN)
        assert env.gonka.health_calls == 1
