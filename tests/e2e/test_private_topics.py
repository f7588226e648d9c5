"""Private-chat topics (getMe().has_topics_enabled): each topic is its own conversation."""

from __future__ import annotations

from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import USER, Env, EnvFactory


async def _say(env: Env, text: str, thread: int, count: int) -> None:
    await env.telegram.send_text(USER, text, message_thread_id=thread, is_topic_message=True)
    await env.wait_replies(count)


async def test_two_private_topics_keep_separate_histories(make_env: EnvFactory) -> None:
    async with make_env(has_topics_enabled=True) as env:
        first, second = env.telegram.open_topic(USER), env.telegram.open_topic(USER)
        env.gonka.enqueue(Reply(text="Hi Ann."), Reply(text="I don't know."), Reply(text="Ann."))
        await _say(env, "My name is Ann, remember it please", first, 1)
        await _say(env, "What is my name?", second, 2)
        assert [m["content"] for m in env.upstream_messages()[1:]] == ["What is my name?"]
        await _say(env, "And now?", first, 3)
        assert [m["content"] for m in env.upstream_messages()[1:]] == [
            "My name is Ann, remember it please",
            "Hi Ann.",
            "And now?",
        ]
        # Each answer went to its own topic, and each new conversation named its topic.
        assert [m.message_thread_id for m in env.visible()] == [first, second, first]
        topics = env.telegram.chat(USER).topics
        assert topics[first] == "My name is Ann, remember it please"
        assert topics[second] == "What is my name"
        assert len(env.telegram.calls_of("editForumTopic")) == 2  # only the first question


async def test_new_opens_a_fresh_topic_and_keeps_the_old_one(make_env: EnvFactory) -> None:
    async with make_env(has_topics_enabled=True) as env:
        topic = env.telegram.open_topic(USER)
        env.gonka.enqueue(Reply(text="Noted."), Reply(text="Still noted."))
        await _say(env, "Remember 42", topic, 1)
        await _say(env, "/new", topic, 3)  # the topic-created service message and the notice
        [created] = env.telegram.calls_of("createForumTopic")
        fresh = env.visible()[-1]
        assert fresh.text == "A new conversation: ask your question here."
        assert fresh.message_thread_id != topic and fresh.message_thread_id in (
            env.telegram.chat(USER).topics
        )
        assert created.params["name"] == "New chat"
        await _say(env, "What number?", topic, 4)
        assert env.upstream_messages()[1]["content"] == "Remember 42"  # the old topic remembers


async def test_without_topics_new_resets_as_before(env: Env) -> None:
    env.gonka.enqueue(Reply(text="Noted."), Reply(text="Fresh."))
    await env.telegram.send_text(USER, "Remember 42")
    await env.wait_replies(1)
    await env.telegram.send_text(USER, "/new")
    await env.wait_replies(2)
    await env.telegram.send_text(USER, "What number?")
    await env.wait_replies(3)
    assert [m["content"] for m in env.upstream_messages()[1:]] == ["What number?"]
    assert not env.telegram.calls_of("createForumTopic")
    assert not env.telegram.calls_of("editForumTopic")
