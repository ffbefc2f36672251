"""A loopback fake of the Gemini API (generativelanguage REST), speaking its real wire format.

The `google-genai` client, given `http_options={"base_url": fake.url}`, POSTs
`/v1beta/models/{model}:generateContent` (one JSON answer) and
`/v1beta/models/{model}:streamGenerateContent?alt=sse` (server-sent events, one
GenerateContentResponse per `data:` line). Scripted like every harness.fake_provider fake
(script, first_chunk_delay_s, requests). Steps: "ok", "429" (RESOURCE_EXHAUSTED), "500"
(INTERNAL), in the API's error shape `{"error": {"code", "message", "status"}}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harness.fake_provider import JsonHandler, ScriptedFake, serve

WORDS = ["Gemini", " answers", " from", " a", " loopback", " fake", "."]
STATUS = {"429": "RESOURCE_EXHAUSTED", "500": "INTERNAL"}


@dataclass
class FakeGemini(ScriptedFake):
    pass


def _model(path: str) -> str:
    return path.split("/models/", 1)[-1].split(":", 1)[0]


def response(model: str, text: str, finish: bool = True, usage: bool = True) -> dict[str, Any]:
    """One GenerateContentResponse (a whole answer, or one streamed chunk of it)."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    candidate["index"] = 0
    if finish:
        candidate["finishReason"] = "STOP"
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
    body["responseId"] = "fake-gemini-response"
    if usage:
        body["usageMetadata"] = {
            "promptTokenCount": 120,
            "candidatesTokenCount": 40,
            "totalTokenCount": 160,
        }
    return body


class _Handler(JsonHandler):
    json_content_type = "application/json; charset=UTF-8"
    sse_eol = "\r\n"

    def do_POST(self) -> None:
        self.read_json()
        model = _model(self.path)
        step = self.fake.next_step()
        if step != "ok":
            error = {"code": int(step), "message": f"fake {step}", "status": STATUS[step]}
            self.send_json(int(step), {"error": error})
        elif ":streamGenerateContent" in self.path:
            self._stream(model)
        elif ":generateContent" in self.path:
            self.send_json(200, response(model, "".join(WORDS)))
        else:
            self.send_json(404, {"error": {"code": 404, "message": "no such method"}})

    def _stream(self, model: str) -> None:
        self.start_sse()
        for i, word in enumerate(WORDS):
            last = i == len(WORDS) - 1
            self.send_event(response(model, word, finish=last, usage=last))


@contextmanager
def fake_gemini_server(fake: FakeGemini | None = None) -> Iterator[FakeGemini]:
    """Run the fake on a free loopback port; yields it with `url` set to its base URL."""
    with serve(fake or FakeGemini(), _Handler, "fake-gemini") as running:
        yield running
