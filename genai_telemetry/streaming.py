"""Streamed completions, timed the way the GenAI conventions time them (client side).

`consume_stream()` drains a provider's stream for `instrumented.InstrumentedClient.stream()`:
it forwards each text chunk, sets `gen_ai.response.time_to_first_chunk` on the chat span,
observes the time to first chunk histogram once and the time per output chunk histogram for
every text chunk after the first (receipt of the previous text chunk → receipt of this one),
and returns the stream as one `ChatResult`. Chunks without text (the final usage chunk of
OpenAI-style streams) are not timed: they carry no output.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from genai_telemetry import semconv as sc
from genai_telemetry.client import ChatResult, ProviderError, StreamChunk
from genai_telemetry.metrics import Metrics
from genai_telemetry.telemetry import OperationState
from genai_telemetry.tracing import sampled_trace_id

OnChunk = Callable[[str], Awaitable[None]]


async def consume_stream(
    chunks: AsyncIterator[StreamChunk],
    *,
    op: OperationState,
    metrics: Metrics,
    provider: str,
    model: str,
    on_chunk: OnChunk,
) -> ChatResult:
    """The stream as a ChatResult; raises ProviderError if it ends without a final chunk."""
    parts: list[str] = []
    final: StreamChunk | None = None
    observe_gap = metrics.chunk_gap_observer(sc.OP_CHAT, provider, model)
    last: float | None = None
    async for chunk in chunks:
        if chunk.text:
            now = time.perf_counter()
            if last is None:
                ttfc = now - op.started
                op.set(sc.A_TIME_TO_FIRST_CHUNK, ttfc)
                metrics.observe_ttfc(sc.OP_CHAT, provider, model, ttfc, sampled_trace_id())
            elif observe_gap is not None:
                observe_gap(now - last)
            last = now
            parts.append(chunk.text)
            await on_chunk(chunk.text)
        if chunk.is_final:
            final = chunk
    if final is None or final.usage is None:
        raise ProviderError("stream ended without a final chunk", error_type=sc.ERROR_SERVER)
    return ChatResult(
        text="".join(parts),
        response_model=final.response_model or "",
        response_id=final.response_id or "",
        finish_reasons=list(final.finish_reasons or []),
        usage=final.usage,
    )
