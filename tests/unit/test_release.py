"""Release files agree with each other: one version, one uv, one lock for every install."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import bot

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_lives_in_pyproject_and_the_changelog_knows_it() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert bot.__version__ == version
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()
    assert not re.search(r"__version__\s*=\s*['\"]\d", (ROOT / "bot" / "__init__.py").read_text())


def test_makefile_and_dockerfile_install_the_same_lock_with_the_same_uv() -> None:
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    uv = re.search(r"UV_VERSION := (\S+)", makefile)
    assert uv is not None
    assert f"uv=={uv.group(1)}" in dockerfile
    assert "sync --locked" in makefile and "sync --locked" in dockerfile
    assert "COPY pyproject.toml uv.lock" in dockerfile
    assert "pip install ." not in dockerfile  # an unpinned resolve


def test_the_docker_context_keeps_secrets_and_local_state_out() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"  # an allowlist: only what is named below enters
    allowed = {rule.removeprefix("!").rstrip("/") for rule in rules if rule.startswith("!")}
    assert allowed == {"pyproject.toml", "uv.lock", "bot"}


def test_the_image_keeps_the_embedded_store_on_its_volume() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    data_dir = re.search(r"DATA_DIR=(\S+)", dockerfile)
    assert data_dir is not None, "the image must say where the embedded store lives"
    assert f"VOLUME {data_dir.group(1)}" in dockerfile
    assert f"chown 10001 {data_dir.group(1)}" in dockerfile  # writable by the bot's user


def _dockerfile_env(text: str) -> dict[str, str]:
    """The ENV of the image's last stage (the one that runs), `KEY=value` pairs."""
    final = re.split(r"(?m)^FROM\s", text)[-1].replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in final.splitlines():
        if line.startswith("ENV "):
            for key, value in re.findall(r'([A-Z_][A-Z0-9_]*)=("[^"]*"|\S*)', line):
                env[key] = value.strip('"')
    return env


def _example_env(text: str) -> dict[str, str]:
    """What `docker run --env-file .env.example` sets: every uncommented `KEY=value` line."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value for key, value in pairs if not key.lstrip().startswith("#")}


def test_the_env_example_keeps_the_images_defaults() -> None:
    """`docker run --env-file .env` with a copy of the example: an empty HTTP_PORT= turned the
    health server (and so HEALTHCHECK) off, and DATA_DIR=./data wrote outside the volume."""
    image = _dockerfile_env((ROOT / "Dockerfile").read_text())
    assert {"HTTP_PORT", "DATA_DIR"} <= image.keys()
    example = _example_env((ROOT / ".env.example").read_text())
    overridden = {key: value for key, value in example.items() if image.get(key, value) != value}
    assert overridden == {}, "comment these out in .env.example (document the value in a comment)"


def test_the_env_example_changes_no_default_of_the_bot() -> None:
    """A copy of the example with only the required values filled in runs the defaults."""
    from bot.config import Settings

    example = ROOT / ".env.example"
    required = {"bot_token": "1:x", "gonka_api_key": "k"}
    from_example = Settings(_env_file=example, **required)  # type: ignore[call-arg,arg-type]
    defaults = Settings(_env_file=None, **required)  # type: ignore[call-arg,arg-type]
    changed = {
        name for name in type(defaults).model_fields
        if getattr(from_example, name) != getattr(defaults, name)
    }  # fmt: skip
    assert changed == set()
