"""A loopback fake of the Anthropic Messages API, speaking its real wire format.

The `anthropic` client, given `base_url=fake.url`, POSTs `/v1/messages`: one Message as JSON, or
with `"stream": true` server-sent events (`message_start`, `content_block_start`,
`content_block_delta` per text piece, `content_block_stop`, `message_delta` with the output
token count, `message_stop`), so the client's own request building, event parsing and error
mapping run over real HTTP.

Scripted per request like harness.fake_gemini: `fake.script = ["429", "ok"]`; an empty script
answers 200. Failures in the API's error shape `{"type": "error", "error": {"type", "message"}}`:
"429" rate_limit_error, "500" api_error, "529" overloaded_error. `first_chunk_delay_s` holds
back the first event of a stream. Requests are recorded in `fake.requests` as (path, json body).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.scripted_fake import JsonHandler, ScriptedFake, run_fake

WORDS = ["Claude", " answers", " from", " a", " loopback", " fake", "."]
ERRORS = {"429": "rate_limit_error", "500": "api_error", "529": "overloaded_error"}
INPUT_TOKENS, OUTPUT_TOKENS = 120, 40


class FakeAnthropic(ScriptedFake):
    pass


def message(model: str, text: str, *, streaming: bool = False) -> dict[str, Any]:
    """A Message: the whole answer, or (streaming) the empty one message_start carries."""
    return {
        "id": "msg_fake_anthropic",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [] if streaming else [{"type": "text", "text": text}],
        "stop_reason": None if streaming else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 1 if streaming else OUTPUT_TOKENS},
    }


class _Handler(JsonHandler):
    def do_POST(self) -> None:
        body = self.read_json()
        step = self.fake.next_step()
        if self.path.split("?", 1)[0] != "/v1/messages":
            self.send_json(404, _error("not_found_error", "no such endpoint"))
        elif step != "ok":
            self.send_json(int(step), _error(ERRORS[step], f"fake {step}"))
        elif body.get("stream"):
            self._stream(str(body.get("model", "")))
        else:
            self.send_json(200, message(str(body.get("model", "")), "".join(WORDS)))

    def _stream(self, model: str) -> None:
        self.start_events()
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": message(model, "", streaming=True)},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            *(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": w},
                }
                for w in WORDS
            ),
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": OUTPUT_TOKENS},
            },
            {"type": "message_stop"},
        ]
        for event in events:
            self.send_event(event, event["type"])


def _error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


@contextmanager
def fake_anthropic_server(fake: FakeAnthropic | None = None) -> Iterator[FakeAnthropic]:
    """Run the fake on a free loopback port; yields it with `url` set to its base URL."""
    with run_fake(fake or FakeAnthropic(), _Handler, "fake-anthropic") as running:
        yield running
