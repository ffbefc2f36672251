"""Where `server.address`/`server.port` come from (docs/telemetry.md § Traces): the model card of
each provider. Starts no process; the exported spans are checked in
test_semconv_conformance.py."""

from __future__ import annotations

import pytest

from demo_app.providers.base import ModelInfo
from demo_app.providers.openai_compatible import OpenAICompatibleProvider
from demo_app.providers.simulated import load_catalog


@pytest.mark.parametrize(
    ("base_url", "address", "port"),
    [
        ("https://api.openai.com/v1", "api.openai.com", 443),
        ("http://vllm.internal/v1", "vllm.internal", 80),
        ("http://localhost:11434/v1", "localhost", 11434),
        ("https://[2001:db8::1]:8443/v1", "2001:db8::1", 8443),
    ],
)
def test_openai_compatible_models_are_reached_at_the_base_url(
    base_url: str, address: str, port: int
) -> None:
    provider = OpenAICompatibleProvider.from_env({"OPENAI_BASE_URL": base_url})
    models = provider.models().values()
    assert models, "an empty catalog would prove nothing"
    for info in models:
        assert (info.server_address, info.server_port) == (address, port), info.name


@pytest.mark.parametrize("base_url", ["http://example.com:99999/v1", "http://:8080/v1"])
def test_a_base_url_without_a_usable_host_or_port_is_a_named_error(base_url: str) -> None:
    with pytest.raises(ValueError, match="OPENAI_BASE_URL"):
        OpenAICompatibleProvider.from_env({"OPENAI_BASE_URL": base_url})


def test_simulated_models_run_in_process_and_name_no_server() -> None:
    models, _, _ = load_catalog()
    assert models
    for info in models.values():
        assert (info.server_address, info.server_port) == (None, None), info.name


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"server_address": "api.example.com"}, "go together"),
        ({"server_port": 443}, "go together"),
        ({"server_address": "api.example.com", "server_port": 0}, "port number"),
        ({"server_address": "api.example.com", "server_port": "443"}, "port number"),
    ],
)
def test_model_card_server_fields_are_validated(server: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelInfo(
            name="m",
            provider="openai",
            kind="chat",
            context_window=10,
            max_output_tokens=5,
            **server,
        )
