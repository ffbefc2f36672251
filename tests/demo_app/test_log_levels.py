"""Which stdlib `logging` records reach the app's JSON log pipeline (stdout and OTLP).

docs/telemetry.md promises two records per answered chat; libraries log at INFO for every call
(httpx: one line per provider request), so their INFO records stay out unless LOG_LEVEL=debug.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from demo_app.config import Settings
from genai_telemetry.attribute_values import clean_value
from genai_telemetry.logs import NO_OTLP, OTLPSink, build_logger, install_stdlib_bridge


@pytest.fixture
def bridged() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    saved_levels = {n: logging.getLogger(n).level for n in ("uvicorn", "uvicorn.error")}
    yield io.StringIO()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)


def _events(level: str, stream: io.StringIO) -> list[tuple[str, str]]:
    settings = Settings.from_env({"LOG_LEVEL": level})
    install_stdlib_bridge(build_logger(settings, OTLPSink(None), stream), level)
    logging.getLogger("httpx").info("HTTP Request: POST http://llm/v1/chat/completions 200")
    logging.getLogger("httpx").warning("connection pool full")
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    return [(x["logger"], x["event"]) for x in lines]


def test_library_info_records_stay_out_by_default(bridged: io.StringIO) -> None:
    assert _events("info", bridged) == [
        ("httpx", "connection pool full"),
        ("uvicorn.error", "Application startup complete."),
    ]


def test_debug_lets_library_info_records_in(bridged: io.StringIO) -> None:
    events = _events("debug", bridged)
    assert ("httpx", "HTTP Request: POST http://llm/v1/chat/completions 200") in events
    assert len(events) == 3


def test_warning_level_silences_uvicorn_info(bridged: io.StringIO) -> None:
    assert _events("warning", bridged) == [("httpx", "connection pool full")]


class _Recording(OTLPSink):
    def __init__(self) -> None:
        super().__init__(None)
        self.seen: list[str] = []

    def __call__(self, logger: object, method: str, event_dict: dict) -> dict:  # type: ignore[override]
        if not event_dict.get(NO_OTLP):
            self.seen.append(str(event_dict.get("event")))
        return super().__call__(logger, method, event_dict)


def test_an_invalid_attribute_value_is_reported_on_stdout_only(bridged: io.StringIO) -> None:
    """The warning about a value no attribute can hold is about the telemetry itself: stdout,
    marked as such, never an OTLP record (which could loop back into the same warning)."""
    sink = _Recording()
    settings = Settings.from_env({"LOG_LEVEL": "info"})
    install_stdlib_bridge(build_logger(settings, sink, bridged), "info")
    assert clean_value(object(), None) is None
    (line,) = [json.loads(x) for x in bridged.getvalue().splitlines()]
    assert line["event_class"] == "telemetry_export" and "Invalid type" in line["event"]
    assert sink.seen == []
