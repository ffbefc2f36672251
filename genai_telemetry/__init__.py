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
- the parts: `metrics` (every contract metric) on `histogram` (cheaper histogram storage) and
  `exposition` (/metrics content negotiation); `tracing` and `logs` (the providers) on `spans`,
  `log_records` and `attribute_values` (API spans and records without the SDK's machinery),
  `export` (the bounded export queues) and `otlp` (encoding); `server_span` (the HTTP server
  span); `streaming` (streamed completions' timings); `redaction` (the one redaction path of
  every sink) on `redaction_patterns`, `redaction_names`, `redaction_values`,
  `redaction_checksums`, `redaction_steps`, `redaction_precheck` and `redaction_view`; `config`
  and `yamllines` (settings and the price file read with line numbers)

It never imports the app that uses it (rag-api in demo_app/).
"""

__version__ = "0.1.0"
