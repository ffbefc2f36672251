"""Settings of a load run that rag-api shares: the admin token and API keys, from the command
line, the environment or the same `.env` the stack reads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, blank lines and `export ` ignored)."""
    out: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def resolve_setting(
    name: str,
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv_paths: tuple[Path, ...] | None = None,
) -> str | None:
    """`explicit`, else $NAME, else NAME from ./.env or the repo's .env."""
    if explicit:
        return explicit
    env = os.environ if environ is None else environ
    if env.get(name):
        return env[name]
    paths = dotenv_paths if dotenv_paths is not None else (Path.cwd() / ".env", REPO_ROOT / ".env")
    for path in paths:
        value = read_dotenv(path).get(name)
        if value:
            return value
    return None


def resolve_admin_token(
    explicit: str | None,
    environ: Mapping[str, str] | None = None,
    dotenv_paths: tuple[Path, ...] | None = None,
) -> str | None:
    """--admin-token, else $ADMIN_TOKEN, else ADMIN_TOKEN from ./.env or the repo's .env."""
    return resolve_setting("ADMIN_TOKEN", explicit, environ, dotenv_paths)
