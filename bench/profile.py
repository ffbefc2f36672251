"""Where rag-api's telemetry CPU goes, by component: a py-spy profile of the app under load.

rag-api with the full contract on (as `bench peers` runs it: openai_compatible provider against
the loopback fake, OTLP to a counting sink) is loaded for `--seconds` while py-spy samples the
thread of the app process that holds the GIL (`--gil`: a thread waiting for the GIL after a
syscall is not charged, so the export thread's waits do not pose as work). Each sample is
charged to the innermost frame that belongs to a component below (frames of generic modules —
json, threading, queue, logging — fall through to their caller), and each component's share of
samples is turned into µs of CPU per request with the app's CPU time per request over the same
load (CPU spent outside the GIL, in the kernel's socket and file writes, is spread over the
components in proportion). Needs py-spy (`pip install py-spy`; not a project dependency) and
the right to attach to a child process (root, or ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import cli, common, peers

# (component, substrings of "function (file)" frames), first match wins for a frame; order
# matters only between overlapping patterns.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "redaction",
        (
            "genai_telemetry/redaction",  # redaction.py and its parts, redaction_*.py
            "_span_is_clean",
            "_clean (",
        ),
    ),
    (
        "OTLP encoding",
        ("exporter/otlp/proto/common", "SerializeToString", "genai_telemetry/otlp"),
    ),
    (
        "export thread: HTTP",
        ("requests/", "urllib3/", "http/client.py", "exporter/otlp/proto/http"),
    ),
    (
        "export thread: batching",
        (
            "sdk/_shared_internal",
            "sdk/trace/export",
            "sdk/_logs/_internal/export",
            "genai_telemetry/export.py",
        ),
    ),
    ("OTel log records", ("sdk/_logs", "opentelemetry/_logs", "genai_telemetry/log_records.py")),
    ("log formatting (structlog, stdout)", ("structlog/", "genai_telemetry/logs.py")),
    (
        "attribute setting",
        (
            "opentelemetry/attributes",
            "set_attribute",
            "set_attributes",
            "genai_telemetry/attribute_values.py",
        ),
    ),
    (
        "span creation and end",
        (
            "opentelemetry/sdk/trace",
            "opentelemetry/trace",
            "opentelemetry/context",
            "tracing.py",
            "genai_telemetry/spans.py",
        ),
    ),
    (
        "server span middleware",
        (
            "instrumentation/asgi",
            "instrumentation/fastapi",
            "opentelemetry/util/http",
            "genai_telemetry/server_span",
        ),
    ),
    (
        "metrics",
        ("prometheus_client/", "genai_telemetry/metrics.py", "genai_telemetry/histogram.py"),
    ),
    ("telemetry glue (operation wrapper)", ("genai_telemetry/telemetry.py",)),
)
# The span and log record machinery: span and log record objects, attribute validation,
# context, sampler, export queues — the OpenTelemetry SDK's, or (since rag-api replaced them)
# genai_telemetry's spans.py, log_records.py and export.py on the OpenTelemetry API.
SDK_COMPONENTS = (
    "span creation and end",
    "attribute setting",
    "OTel log records",
    "export thread: batching",
)
GENERIC = (
    "json/",
    "threading.py",
    "queue.py",
    "logging/__init__.py",
    "contextlib.py",
    "<frozen",
    "typing.py",
    "enum.py",
    "re/__init__",
)


# Frames of the app's own libraries that call the OpenTelemetry API whatever rag-api does:
# FastAPI's native telemetry asks for the global tracer provider on every request (rag-api's
# providers are per app, so it finds none and does nothing; the off twin pays it too). OTel
# frames called straight from one of these are the app's, not rag-api's telemetry.
APP_OWNED = ("fastapi/telemetry/",)
_OTEL = "opentelemetry/"


def _match(frame: str) -> str | None:
    for name, patterns in COMPONENTS:
        if any(p in frame for p in patterns):
            return name
    return None


def component(stack: list[str]) -> str:
    """The component of one sample: stack is outermost-first, as py-spy writes it."""
    found: str | None = None
    for frame in reversed(stack):
        if any(g in frame for g in GENERIC):
            continue
        if found is not None:  # inside OpenTelemetry: who called it?
            if _OTEL in frame:
                continue
            return "app (not telemetry)" if any(o in frame for o in APP_OWNED) else found
        found = _match(frame)
        if found is None:
            return "app (not telemetry)"
        if _OTEL not in frame:
            return found
    return found or "app (not telemetry)"


def classify(collapsed: str) -> Counter[str]:
    """Samples per component from py-spy's collapsed-stack output ("a;b;c count" lines)."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        counts[component(frames)] += int(n)
    return counts


def top_frames(collapsed: str, n: int = 25) -> list[tuple[str, int]]:
    """The innermost telemetry frames with the most samples (what to look at inside a
    component): each sample charged to the frame `component` charged it to."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, k = line.rpartition(" ")
        if not stack or not k.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        for frame in reversed(frames):
            if any(g in frame for g in GENERIC):
                continue
            if any(p in frame for _, patterns in COMPONENTS for p in patterns):
                counts[frame] += int(k)
            break
    return counts.most_common(n)


def run(
    seconds: float = 20.0, concurrency: int = 8, rate: int = 250, raw: Path | None = None
) -> dict[str, Any]:
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        raise SystemExit("bench profile needs py-spy on PATH: pip install py-spy")
    with (
        common.workdir("profile") as tmp,
        common.fake_openai(0.0) as fake_url,
        common.otlp_sink("ok") as (sink, _),
        peers.start("rag-api on", tmp, fake_url, sink) as proc,
    ):
        common.run_load(proc.url, duration=2.0, concurrency=concurrency, traffic=peers.TRAFFIC)
        out = Path(tempfile.mkstemp(suffix=".txt", dir=tmp)[1])
        spy_proc = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(proc.popen.pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--threads",
                "--nonblocking",
                "--full-filenames",
                "--gil",
                "--duration",
                str(int(seconds) + 1),
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        segment = common.measure(
            "rag-api on", proc, duration=seconds, concurrency=concurrency, traffic=peers.TRAFFIC
        )
        _, err = spy_proc.communicate(timeout=seconds + 60)
        if spy_proc.returncode != 0:
            raise SystemExit(f"py-spy failed ({spy_proc.returncode}): {err.strip()[-500:]}")
        collapsed = out.read_text()
        samples = classify(collapsed)
        if raw is not None:
            raw.write_text(collapsed)
    total = sum(samples.values())
    cpu = segment.cpu_us_per_request
    rows = [
        [name, f"{n}", f"{n / total:.1%}", f"{cpu * n / total:.0f}"]
        for name, n in samples.most_common()
    ]
    print(common.table(rows, ["component", "samples", "share", "µs CPU/request"]))
    print(f"app CPU per request: {cpu:.0f} µs over {segment.load['requests']} requests")
    telemetry = total - samples.get("app (not telemetry)", 0)
    sdk = sum(samples.get(name, 0) for name in SDK_COMPONENTS)
    print(
        f"telemetry: {telemetry / total:.1%} of all samples, "
        f"~{cpu * telemetry / total:.0f} µs/request; "
        f"of it the span and log record machinery ({', '.join(SDK_COMPONENTS)}): "
        f"{sdk / max(telemetry, 1):.0%}"
    )
    top = [[frame, f"{k}", f"{k / total:.1%}"] for frame, k in top_frames(collapsed)]
    print(common.table(top, ["innermost telemetry frame", "samples", "share"]))
    return {
        "samples": dict(samples),
        "cpu_us_per_request": cpu,
        "us_per_request": {k: cpu * n / total for k, n in samples.items()},
        "sdk_share_of_telemetry": sum(samples.get(n, 0) for n in SDK_COMPONENTS)
        / max(total - samples.get("app (not telemetry)", 0), 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=cli.positive_float, default=20.0)
    parser.add_argument("--concurrency", type=cli.positive_int, default=8)
    parser.add_argument(
        "--rate", type=cli.positive_int, default=250, help="py-spy samples per second"
    )
    parser.add_argument("--raw", type=Path, help="also write py-spy's collapsed stacks here")
    args = parser.parse_args(argv)
    run(args.seconds, args.concurrency, args.rate, args.raw)


if __name__ == "__main__":
    sys.exit(cli.run_main(main, "python -m bench.profile"))
