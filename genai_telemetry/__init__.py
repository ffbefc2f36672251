"""GenAI telemetry: the contract (names, buckets, bounded values) and the code that records it.

Layers, each importable on its own (importing `genai_telemetry.semconv` loads no SDK):

- `semconv`   — every metric, label, attribute and bounded value name (the contract in code;
                docs/telemetry.md is the contract users read, tested against it)
- `client`    — the LLM client interface the instrumentation wraps (requests, results, usage,
                errors), implemented by the app's providers
- `pricing`   — the price table: USD cost of a call from its token usage
- `telemetry` — `Telemetry`: one app's meter, tracer and loggers; `operation()` records one
                GenAI operation (span + duration) the same way everywhere
- `instrumented` — an instrumented LLM client: wraps any client so each chat/embeddings call
                gets its span, token usage, cost and streaming timings, the way
                opentelemetry-python-contrib's GenAI instrumentations wrap a vendor client
- `metrics`, `tracing`, `logs`, `otlp`, `redaction`, `server_span`, `streaming` — the parts

It never imports the app that uses it (rag-api in demo_app/).
"""

__version__ = "0.1.0"
