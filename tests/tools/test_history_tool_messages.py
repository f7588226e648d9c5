"""Tool calls and results survive the Redis history round trip; old entries still load."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.core.models import ChatKey, ChatMessage, ToolCall


async def test_tool_messages_round_trip(redis: Redis, key_prefix: str) -> None:
    store = RedisHistoryStore(redis, RedisKeys(key_prefix))
    chat = ChatKey(7)
    call = ToolCall("call_1", "get_weather", '{"location": "Berlin"}')
    messages = [
        ChatMessage("user", "weather in Berlin?", 9),
        ChatMessage("assistant", "", 20, tool_calls=(call,)),
        ChatMessage("tool", "Berlin: 3 °C", 8, tool_call_id="call_1"),
        ChatMessage("assistant", "It is 3 °C.", 10),
    ]
    await store.append(chat, messages, keep=10)
    assert await store.load(chat) == messages
    assert messages[1].as_openai() == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location": "Berlin"}'},
            }
        ],
    }
    assert messages[2].as_openai() == {
        "role": "tool",
        "content": "Berlin: 3 °C",
        "tool_call_id": "call_1",
    }


async def test_entries_stored_before_tools_still_load(redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix)
    store = RedisHistoryStore(redis, keys)
    chat = ChatKey(8)
    await store.append(chat, [ChatMessage("user", "hi", 6)], keep=10)
    raw = await redis.lindex(keys.history(chat), 0)
    assert json.loads(raw) == {"r": "user", "c": "hi", "t": 6}
    assert await store.load(chat) == [ChatMessage("user", "hi", 6)]
