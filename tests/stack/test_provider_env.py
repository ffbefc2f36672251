"""rag-api's provider settings as `make up` hands them over: .env → Compose → the real app.

Switching to a real backend is an edit of .env (`LLM_PROVIDER=openai_compatible`, `OPENAI_*`).
What Compose passes on must start rag-api with the backend's own model as the default unless
`LLM_DEFAULT_MODEL` names one; the app runs here against the loopback fake OpenAI API.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from harness.fake_openai import FakeOpenAI, fake_openai_server
from harness.procs import start_rag_api
from tests.stack.conftest import run_compose


def _rag_api_provider_env(env_file: Path, directory: Path, **values: str) -> dict[str, str]:
    """rag-api's LLM_* and OPENAI_* variables as Compose renders them from an edited .env."""
    text = env_file.read_text()
    for key, value in values.items():
        text, found = re.subn(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
        assert found == 1, f".env.example has no {key}= line"
    edited = directory / ".env"
    edited.write_text(text)
    proc = run_compose(edited, "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)["services"]["rag-api"]["environment"]
    return {k: str(v) for k, v in env.items() if k.startswith(("LLM_", "OPENAI_"))}


def _model_called(directory: Path, env: dict[str, str], fake: FakeOpenAI) -> str:
    app = start_rag_api(directory, env=env, name="rag-api-provider-env")
    try:
        r = httpx.post(app.url + "/v1/chat", json={"question": "What is a burn rate?"}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        app.stop()
    chats = [body for path, _, body in fake.requests if path.endswith("/chat/completions")]
    assert chats, "the fake OpenAI API saw no chat call"
    return str(chats[-1]["model"])


@pytest.mark.parametrize("default_model", [None, "llama3.2"])
def test_openai_model_alone_makes_the_default(
    env_file: Path, tmp_path: Path, default_model: str | None
) -> None:
    with fake_openai_server() as fake:
        values = {"LLM_PROVIDER": "openai_compatible", "OPENAI_BASE_URL": fake.url,
                  "OPENAI_MODEL": "llama3.2"}  # fmt: skip
        if default_model is not None:
            values["LLM_DEFAULT_MODEL"] = default_model
        env = _rag_api_provider_env(env_file, tmp_path, **values)
        assert _model_called(tmp_path, env, fake) == "llama3.2"
