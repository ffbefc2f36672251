"""A loopback fake of the Amazon Bedrock Runtime API, speaking its real wire format.

boto3's `bedrock-runtime` client, given `endpoint_url=fake.url` (any credentials: SigV4 is not
checked), POSTs `/model/{modelId}/converse` (one JSON answer: output message, stopReason, usage,
metrics), `/model/{modelId}/converse-stream` (an `application/vnd.amazon.eventstream` body:
binary frames, each a prelude of total and header lengths with its CRC32, string headers
`:event-type`, `:content-type`, `:message-type`, a JSON payload and the frame's CRC32, so
botocore's own parser checks every byte) and `/model/{modelId}/invoke` (the model's native body;
here Titan Text Embeddings V2's, with the `X-Amzn-Bedrock-*` token count headers). The model id
in the path is URL-encoded (`v1%3A0`); `fake.requests` records it decoded.

Scripted like every harness.fake_provider fake (script; first_chunk_delay_s holds back a stream's
first frame). Steps: "ok"; "429" (ThrottlingException), "500" (InternalServerException), "503"
(ServiceUnavailableException) in AWS's error shape: the status, an `X-Amzn-ErrorType:
<code>:http://internal.amazon.com/coral/com.amazon.bedrock/` header and `{"message": …}`; and
"429-in-stream": a stream that starts (200, messageStart) and then ends in a
`throttlingException` exception frame, as Bedrock throttles a stream already under way (a call
that is not a stream gets the plain 429).
"""

from __future__ import annotations

import json
import struct
from binascii import crc32
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from harness.fake_provider import JsonHandler, ScriptedFake, serve

WORDS = ["Bedrock", " answers", " from", " a", " loopback", " fake", "."]
INPUT_TOKENS = 120
OUTPUT_TOKENS = 40
EMBED_TOKENS = 8
EMBED_DIMENSIONS = 256
ERRORS = {
    "429": "ThrottlingException",
    "500": "InternalServerException",
    "503": "ServiceUnavailableException",
}
MESSAGES = {
    "429": "Too many requests, please wait before trying again.",
    "500": "The server encountered an error processing your request.",
    "503": "The service is currently unavailable.",
}
IN_STREAM = "429-in-stream"
EVENTSTREAM = "application/vnd.amazon.eventstream"
_STRING = 7  # header value type: string (uint16 length, UTF-8 bytes)


@dataclass
class FakeBedrock(ScriptedFake):
    pass


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total length, headers length, prelude CRC32), headers,
    payload, message CRC32 (of everything before it), all integers big-endian."""
    encoded = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack("!B", len(raw_name)) + raw_name
        encoded += struct.pack("!BH", _STRING, len(raw_value)) + raw_value
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", crc32(prelude) & 0xFFFFFFFF)
    message = prelude + encoded + payload
    return message + struct.pack("!I", crc32(message) & 0xFFFFFFFF)


def event(kind: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(body).encode())


def exception(kind: str, message: str) -> bytes:
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def usage() -> dict[str, int]:
    total = INPUT_TOKENS + OUTPUT_TOKENS
    return {"inputTokens": INPUT_TOKENS, "outputTokens": OUTPUT_TOKENS, "totalTokens": total}


def converse_response() -> dict[str, Any]:
    message = {"role": "assistant", "content": [{"text": "".join(WORDS)}]}
    return {
        "output": {"message": message},
        "stopReason": "end_turn",
        "usage": usage(),
        "metrics": {"latencyMs": 42},
    }


def stream_frames() -> Iterator[bytes]:
    """The frames of one streamed answer, in the order ConverseStream sends them."""
    yield event("messageStart", {"role": "assistant"})
    for word in WORDS:
        yield event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word}})
    yield event("contentBlockStop", {"contentBlockIndex": 0})
    yield event("messageStop", {"stopReason": "end_turn"})
    yield event("metadata", {"usage": usage(), "metrics": {"latencyMs": 42}})


def _route(path: str) -> tuple[str, str]:
    """(model id, action) of `/model/{modelId}/{action}`; ("", "") for any other path."""
    parts = path.split("?", 1)[0].split("/")
    if len(parts) != 4 or parts[1] != "model":
        return "", ""
    return unquote(parts[2]), parts[3]


class _Handler(JsonHandler):
    def do_POST(self) -> None:
        model, action = _route(self.path)
        if action:
            self.path = f"/model/{model}/{action}"  # recorded decoded
        body = self.read_json()
        if action not in ("converse", "converse-stream", "invoke"):
            self._error("404", "UnknownOperationException", "no such operation")
            return
        step = self.fake.next_step()
        if step == IN_STREAM and action == "converse-stream":
            self._stream(throttled=True)
        elif step != "ok":
            code = step.split("-", 1)[0]
            self._error(code, ERRORS[code], MESSAGES[code])
        elif action == "converse-stream":
            self._stream()
        elif action == "converse":
            self.send_json(200, converse_response())
        else:
            self._embedding(model, body)

    def _stream(self, *, throttled: bool = False) -> None:
        self.start_sse(EVENTSTREAM)
        for i, data in enumerate(stream_frames()):
            if throttled and i == 1:
                data = exception("throttlingException", MESSAGES["429"])
            self.wfile.write(data)
            self.wfile.flush()
            if throttled and i == 1:
                return

    def _embedding(self, model: str, body: dict[str, Any]) -> None:
        """Titan Text Embeddings V2's InvokeModel answer (a vector of the requested size)."""
        size = int(body.get("dimensions") or EMBED_DIMENSIONS)
        headers = {
            "X-Amzn-Bedrock-Input-Token-Count": str(EMBED_TOKENS),
            "X-Amzn-Bedrock-Invocation-Latency": "12",
        }
        answer = {"embedding": [0.125] * size, "inputTextTokenCount": EMBED_TOKENS}
        answer["embeddingsByType"] = {"float": answer["embedding"]}
        self.send_json(200, answer, headers)

    def _error(self, status: str, code: str, message: str) -> None:
        kind = f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        self.send_json(int(status), {"message": message}, {"X-Amzn-ErrorType": kind})


@contextmanager
def fake_bedrock_server(fake: FakeBedrock | None = None) -> Iterator[FakeBedrock]:
    """Run the fake on a free loopback port; yields it with `url` set to its endpoint URL."""
    with serve(fake or FakeBedrock(), _Handler, "fake-bedrock") as running:
        yield running
