"""A loopback fake of the Anthropic Messages API, speaking its real wire format.

The `anthropic` client, given `base_url=fake.url`, POSTs `/v1/messages`: without `stream` the
answer is one Message object (content blocks, stop_reason, usage input_tokens/output_tokens);
with `"stream": true` it is server-sent events, each an `event:` name and a `data:` JSON object
of that type: message_start (the message, empty content, input tokens), content_block_start, a
ping, one content_block_delta (text_delta) per word, content_block_stop, message_delta
(stop_reason and the output tokens) and message_stop. Scripted like every harness.fake_provider
fake (script; first_chunk_delay_s holds back message_start, the first event; requests). Steps:
"ok", "429" (rate_limit_error), "500" (api_error), "529" (overloaded_error), in the API's error
shape `{"type": "error", "error": {"type", "message"}}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harness.fake_provider import JsonHandler, ScriptedFake, serve

WORDS = ["Claude", " answers", " from", " a", " loopback", " fake", "."]
ERRORS = {"429": "rate_limit_error", "500": "api_error", "529": "overloaded_error"}
INPUT_TOKENS = 120
OUTPUT_TOKENS = 40


@dataclass
class FakeAnthropic(ScriptedFake):
    pass


def message(model: str, text: str, *, done: bool = True) -> dict[str, Any]:
    """A Message object: the whole answer, or (not done) the head of a stream, no content yet."""
    return {
        "id": "msg_fake_anthropic",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}] if done else [],
        "stop_reason": "end_turn" if done else None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": INPUT_TOKENS,
            "output_tokens": OUTPUT_TOKENS if done else 1,
        },
    }


def stream_events(model: str) -> Iterator[dict[str, Any]]:
    """The events of one streamed answer, in the order the API sends them."""
    yield {"type": "message_start", "message": message(model, "", done=False)}
    block = {"type": "text", "text": ""}
    yield {"type": "content_block_start", "index": 0, "content_block": block}
    yield {"type": "ping"}  # the API interleaves these keep-alives; clients must skip them
    for word in WORDS:
        delta = {"type": "text_delta", "text": word}
        yield {"type": "content_block_delta", "index": 0, "delta": delta}
    yield {"type": "content_block_stop", "index": 0}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": OUTPUT_TOKENS},
    }
    yield {"type": "message_stop"}


class _Handler(JsonHandler):
    def do_POST(self) -> None:
        body = self.read_json()
        model = str(body.get("model", ""))
        if self.path.split("?", 1)[0] != "/v1/messages":
            self._error(404, "not_found_error")
            return
        step = self.fake.next_step()
        if step != "ok":
            self._error(int(step), ERRORS[step])
        elif body.get("stream"):
            self.start_sse()
            for event in stream_events(model):
                self.send_event(event, event=event["type"])
        else:
            self.send_json(200, message(model, "".join(WORDS)))

    def _error(self, status: int, kind: str) -> None:
        error = {"type": kind, "message": f"fake {status} {kind}"}
        self.send_json(status, {"type": "error", "error": error})


@contextmanager
def fake_anthropic_server(fake: FakeAnthropic | None = None) -> Iterator[FakeAnthropic]:
    """Run the fake on a free loopback port; yields it with `url` set to its base URL."""
    with serve(fake or FakeAnthropic(), _Handler, "fake-anthropic") as running:
        yield running
