"""harness.fake_openai's embeddings as the OpenAI API answers them: floats by default, base64 of
little-endian float32s when the request asks (the openai clients for Python and Node.js ask by
default), read back by the official Python client to the same vector."""

from __future__ import annotations

import base64
import struct

import httpx
import openai
import pytest

from harness.fake_openai import fake_openai_server

VECTORS = [[0.0, 0.5, -0.5], [0.1, 0.5, -0.5]]


def _post(url: str, **extra: str) -> dict:
    body = {"model": "text-embedding-3-small", "input": ["a", "b"], **extra}
    return httpx.post(f"{url}/embeddings", json=body, timeout=10).json()


def test_floats_unless_base64_is_asked() -> None:
    with fake_openai_server() as fake:
        plain = _post(fake.url)
        packed = _post(fake.url, encoding_format="base64")
    for got, want in zip((d["embedding"] for d in plain["data"]), VECTORS, strict=True):
        assert got == pytest.approx(want)
    for got, want in zip((d["embedding"] for d in packed["data"]), VECTORS, strict=True):
        assert struct.unpack("<3f", base64.b64decode(got)) == pytest.approx(want, abs=1e-7)
    assert plain["usage"] == packed["usage"] == {"prompt_tokens": 14, "total_tokens": 14}


def test_the_official_client_asks_base64_and_reads_the_vectors() -> None:
    """Left to itself the client asks for base64 and decodes it; asked for floats, floats."""
    for extra in ({}, {"encoding_format": "float"}):
        with fake_openai_server() as fake:
            client = openai.OpenAI(base_url=fake.url, api_key="sk-test", max_retries=0)
            r = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], **extra)
        assert fake.requests[0][2]["encoding_format"] == extra.get("encoding_format", "base64")
        for got, want in zip((d.embedding for d in r.data), VECTORS, strict=True):
            assert got == pytest.approx(want, abs=1e-7)
