"""/metrics: one path (every part records into the Monitor; one collector renders it), the
names, labels and histogram buckets Prometheus has always been given."""

from __future__ import annotations

from bot.core.monitor import Monitor
from bot.metrics import Metrics


def test_what_is_recorded_is_exposed_with_the_same_names_and_labels() -> None:
    monitor = Monitor()
    metrics = Metrics(monitor, active_streams=lambda: 2, api_calls=lambda: 7, api_429=lambda: 1)
    monitor.count("updates", "message")
    monitor.count("updates", "message")
    monitor.count("replies", "complete", "qwen")
    monitor.count("tokens", "prompt", "qwen", amount=100)
    monitor.count("turn_errors", "StorageUnavailable")
    monitor.error("busy")  # no model known: "unknown"
    monitor.first_token(0.3, "qwen")
    monitor.first_token(12, "qwen")
    monitor.observe("upstream_answer_seconds", 4.0, "")
    lines = set(metrics.render().splitlines())
    for line in (
        'gonka_bot_updates_total{type="message"} 2.0',
        'gonka_bot_replies_total{model="qwen",outcome="complete"} 1.0',
        'gonka_bot_tokens_total{kind="prompt",model="qwen"} 100.0',
        'gonka_bot_turn_errors_total{kind="StorageUnavailable"} 1.0',
        'gonka_bot_upstream_errors_total{kind="busy",model="unknown"} 1.0',
        'gonka_bot_upstream_first_token_seconds_bucket{le="0.25",model="qwen"} 0.0',
        'gonka_bot_upstream_first_token_seconds_bucket{le="0.5",model="qwen"} 1.0',
        'gonka_bot_upstream_first_token_seconds_bucket{le="10.0",model="qwen"} 1.0',
        'gonka_bot_upstream_first_token_seconds_bucket{le="20.0",model="qwen"} 2.0',
        'gonka_bot_upstream_first_token_seconds_bucket{le="+Inf",model="qwen"} 2.0',
        'gonka_bot_upstream_first_token_seconds_count{model="qwen"} 2.0',
        'gonka_bot_upstream_first_token_seconds_sum{model="qwen"} 12.3',
        'gonka_bot_upstream_answer_seconds_bucket{le="5.0",model="unknown"} 1.0',
        "gonka_bot_telegram_calls_total 7.0",
        "gonka_bot_telegram_retry_after_total 1.0",
        "gonka_bot_active_streams 2.0",
        "# TYPE gonka_bot_replies_total counter",
        "# TYPE gonka_bot_upstream_answer_seconds histogram",
        "# TYPE gonka_bot_active_streams gauge",
    ):
        assert line in lines, line
    assert any(line.startswith("gonka_bot_build_info{version=") for line in lines)
    assert any(line.startswith("process_resident_memory_bytes") for line in lines)
    assert not any("_created" in line for line in lines)
    assert monitor.snapshot().samples == 2 and monitor.snapshot().errors == {"busy": 1}


def test_the_telegram_layer_records_without_prometheus() -> None:
    # Handlers and middlewares record into the core's Monitor; only bot/metrics.py knows the
    # client library (imported where /metrics is served).
    import ast
    from pathlib import Path

    import bot

    root = Path(bot.__file__).parent
    users = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith(("prometheus_client", "bot.metrics"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert users == ["app.py", "lifecycle.py", "metrics.py", "telegram/runtime/http_server.py"]
