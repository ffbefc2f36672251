"""The RAG pipeline as agents, and the telemetry of what is not a model call.

    invoke_agent supervisor                      input guardrails (guardrails.py), then routes
                                                 on calculator.extract_expression(); output
                                                 guardrails on the answer
    ├─ invoke_agent calculator_worker            arithmetic questions
    │  └─ execute_tool calculator
    └─ invoke_agent retrieval_worker             everything else
       ├─ (response cache lookup: llm.cache.hit)
       ├─ embeddings {embedding model}
       ├─ retrieval {data source id}
       └─ chat {model}                           streamed or not
          └─ gen_ai.evaluation.result events     (OTLP log records parented to the chat span)

The model calls (embeddings, chat) go through `genai_telemetry.instrumented.InstrumentedClient`,
which records their CLIENT spans, duration, token usage, cost, in-flight gauge and streaming
timings; `run()` opens the request scope that gives those calls the request's feature, user tier
and conversation id. This module keeps the RAG logic and the operations that are not client
calls: the agent and tool spans, retrieval, guardrail counts, cache lookups and evaluation
events. Attributes follow the semconv version in `semconv.SEMCONV_VERSION`
(docs/telemetry.md § Traces).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry.trace import SpanKind

from demo_app.cache import ResponseCache, cache_key
from demo_app.calculator import (
    TOOL_NAME,
    CalculatorError,
    CalculatorTool,
    ToolUnavailable,
    extract_expression,
)
from demo_app.corpus import RetrievedDoc
from demo_app.evaluation import EvaluationScore, evaluate
from demo_app.guardrails import (
    FINISH_REASON_BLOCKED,
    REFUSAL,
    Verdict,
    blocked,
    check_input,
    check_output,
)
from demo_app.providers.base import ChatRequest, LLMProvider, Usage, build_messages
from demo_app.versions import DEFAULT_VERSION, PromptVersion
from genai_telemetry import semconv as sc
from genai_telemetry.instrumented import ChatCall, InstrumentedClient, request_scope
from genai_telemetry.metrics import AGENT_PROVIDER, RETRIEVAL_PROVIDER
from genai_telemetry.pricing import PriceTable
from genai_telemetry.redaction import redact
from genai_telemetry.streaming import OnChunk
from genai_telemetry.telemetry import OperationState, Telemetry

# gen_ai.agent.name of each agent (the metrics' allow-list, semconv.AGENT_NAMES).
SUPERVISOR, RETRIEVAL_WORKER, CALCULATOR_WORKER = sc.AGENT_NAMES


@dataclass
class ChatInput:
    question: str
    model: str
    feature: str | None = None
    user_tier: str | None = None
    conversation_id: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = False


@dataclass
class Answer:
    """Everything the API returns (besides request_id/trace_id, added by the route)."""

    text: str
    route: str
    sources: list[dict[str, Any]]
    model: str | None
    provider: str | None
    usage: Usage
    cost_usd: float | None
    cache_hit: bool = False
    saved_usd: float = 0.0
    evaluation: dict[str, float] | None = None
    finish_reasons: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "route": self.route,
            "sources": self.sources,
            "model": self.model,
            "provider": self.provider,
            "usage": {
                "input_tokens": self.usage.input_tokens,
                "output_tokens": self.usage.output_tokens,
                "cached_input_tokens": self.usage.cached_input_tokens,
                "reasoning_tokens": self.usage.reasoning_tokens,
            },
            "cost_usd": self.cost_usd,
            "cache": {"hit": self.cache_hit, "saved_usd": self.saved_usd},
            "evaluation": self.evaluation,
            "finish_reasons": self.finish_reasons,
        }


class Pipeline:
    """One app's pipeline: `run()` answers a request; model calls go through `self.client`
    (`provider` wrapped in the instrumented client)."""

    def __init__(
        self,
        *,
        provider: LLMProvider,
        retriever: Any,
        prices: PriceTable,
        cache: ResponseCache[Answer],
        telemetry: Telemetry,
        top_k: int = 4,
        version: PromptVersion | None = None,
        tool: CalculatorTool | None = None,
    ) -> None:
        self.client = InstrumentedClient(provider, telemetry, prices)
        self.tool = tool or CalculatorTool()
        self.retriever = retriever
        self.cache = cache
        self.tel = telemetry
        self.top_k = top_k
        self.version = version or PromptVersion(DEFAULT_VERSION, DEFAULT_VERSION)

    def chat_models(self) -> list[str]:
        return self.client.chat_models()

    def _agent(
        self,
        name: str,
        inp: ChatInput,
        extra: Mapping[str, Any] | None = None,
        *,
        uses_model: bool = True,
    ) -> AbstractContextManager[OperationState]:
        """The `invoke_agent {name}` span (+ duration observation) of one agent.

        `gen_ai.request.model` (the request's model) is on the span of every agent that may call
        it; the duration metric keeps model "" for agents (docs/telemetry.md § Metrics)."""
        attributes = {sc.A_AGENT_NAME: name, sc.A_CONVERSATION_ID: inp.conversation_id}
        if uses_model:
            attributes[sc.A_REQUEST_MODEL] = inp.model
        return self.tel.operation(
            sc.OP_INVOKE_AGENT,
            name,
            provider=AGENT_PROVIDER,
            attributes={**attributes, **(extra or {})},
        )

    # --- entry point -----------------------------------------------------------------------------
    async def run(self, inp: ChatInput, on_chunk: OnChunk | None = None) -> Answer:
        """Answer one request. Its labels are set once here, for every model call below."""
        with request_scope(
            feature=inp.feature, user_tier=inp.user_tier, conversation_id=inp.conversation_id
        ):
            return await self._supervise(inp, on_chunk)

    async def _supervise(self, inp: ChatInput, on_chunk: OnChunk | None) -> Answer:
        with self._agent(
            SUPERVISOR,
            inp,
            {
                sc.A_LLM_FEATURE: sc.bounded(inp.feature, sc.FEATURES),
                sc.A_LLM_USER_TIER: sc.bounded(inp.user_tier, sc.USER_TIERS),
                sc.A_LLM_PROMPT_VERSION: self.version.name,
            },
        ) as op:
            verdicts = self._guard(check_input(inp.question))
            expression = extract_expression(inp.question)
            if blocked(verdicts):
                answer = await self._refuse(on_chunk)
            elif expression is not None:
                answer = await self._calculator_worker(inp, expression, on_chunk)
            else:
                answer = await self._retrieval_worker(inp, on_chunk)
            verdicts += self._guard(check_output(answer.route, answer.sources))
            triggered = [v.guardrail for v in verdicts if v.triggered]
            op.set(sc.A_LLM_GUARDRAILS_TRIGGERED, triggered or None)
            op.set(sc.A_LLM_CACHE_HIT, answer.cache_hit)
            op.set(sc.A_LLM_COST_USD, answer.cost_usd)
            return answer

    # --- guardrails ------------------------------------------------------------------------------
    def _guard(self, verdicts: list[Verdict]) -> list[Verdict]:
        """Count every check; log the ones that did not pass (never the matched text)."""
        for v in verdicts:
            self.tel.metrics.guardrail_check(v.guardrail, v.action)
            if v.triggered:
                self.tel.log.warning(
                    "guardrail_triggered", guardrail=v.guardrail, action=v.action, detail=v.detail
                )
        return verdicts

    async def _refuse(self, on_chunk: OnChunk | None) -> Answer:
        if on_chunk is not None:
            await on_chunk(REFUSAL)
        return Answer(
            text=REFUSAL,
            route="guardrail",
            sources=[],
            model=None,
            provider=None,
            usage=Usage(0, 0),
            cost_usd=0.0,
            finish_reasons=[FINISH_REASON_BLOCKED],
        )

    # --- calculator path -------------------------------------------------------------------------
    async def _calculator_worker(
        self, inp: ChatInput, expression: str, on_chunk: OnChunk | None
    ) -> Answer:
        with self._agent(CALCULATOR_WORKER, inp, uses_model=False):
            with self.tel.operation(
                sc.OP_EXECUTE_TOOL,
                TOOL_NAME,
                provider=AGENT_PROVIDER,
                attributes={
                    sc.A_TOOL_NAME: TOOL_NAME,
                    sc.A_TOOL_TYPE: "function",
                    sc.A_AGENT_NAME: CALCULATOR_WORKER,
                },
            ) as tool:
                try:
                    text = f"{expression} = {self.tool.run(expression)}"
                except ToolUnavailable:
                    # The tool's backend failed: the agent says so (HTTP 200) instead of
                    # failing the request; only the tool's failure ratio shows it.
                    tool.error_type = sc.ERROR_SERVER
                    text = (
                        f"The calculator is unavailable right now; I cannot compute {expression}."
                    )
                except CalculatorError as exc:
                    # The user's expression cannot be computed (1/0, too large): a client error
                    # of the tool, answered politely rather than failing the request.
                    tool.error_type = sc.ERROR_CLIENT
                    text = f"I cannot compute {expression}: {exc}"
            if on_chunk is not None:
                await on_chunk(text)
            return Answer(
                text=text,
                route="tool",
                sources=[],
                model=None,
                provider=None,
                usage=Usage(0, 0),
                cost_usd=0.0,
                finish_reasons=["stop"],
            )

    # --- retrieval path --------------------------------------------------------------------------
    async def _retrieval_worker(self, inp: ChatInput, on_chunk: OnChunk | None) -> Answer:
        # gen_ai.data_source.id: conditionally required on invoke_agent when the agent uses one.
        source = {sc.A_DATA_SOURCE_ID: self._data_source}
        with self._agent(RETRIEVAL_WORKER, inp, source) as worker:
            key = cache_key(inp.model, inp.question, inp.max_tokens, inp.temperature, inp.feature)
            entry = self.cache.get(key) if self.cache.enabled else None
            if self.cache.enabled:
                saved = (entry.cost_usd or 0.0) if entry is not None else 0.0
                self.tel.metrics.cache_lookup(entry is not None, saved)
            worker.set(sc.A_LLM_CACHE_HIT, entry is not None)
            if entry is not None:
                cached = replace(
                    entry.value, cache_hit=True, saved_usd=entry.cost_usd or 0.0, cost_usd=0.0
                )
                if on_chunk is not None:
                    await on_chunk(cached.text)
                self.tel.log.info(
                    "cache_hit", model=inp.model, saved_usd=cached.saved_usd, route="retrieval"
                )
                return cached

            answer = await self._answer(inp, on_chunk)
            self.cache.put(key, answer, answer.cost_usd)
            return answer

    async def _answer(self, inp: ChatInput, on_chunk: OnChunk | None) -> Answer:
        """Embed the question, retrieve passages, ask the model, evaluate the answer."""
        embedded = await self.client.embed([inp.question])
        docs = self._retrieve(inp.question)
        chat = await self._chat(inp, docs, on_chunk)
        result = chat.result
        cost_total = self._add(0.0, embedded.cost_usd)
        cost_total = self._add(cost_total, chat.cost_usd, unpriced_is_none=True)
        evaluation = evaluate(inp.question, result.text, docs)
        self._record_evaluation(evaluation.scores(), chat)
        return Answer(
            text=result.text,
            route="retrieval",
            sources=[{"id": d.id, "title": d.title, "score": round(d.score, 4)} for d in docs],
            model=inp.model,
            provider=self.client.provider_of(inp.model),
            usage=result.usage,
            cost_usd=None if cost_total is None else round(cost_total, 10),
            evaluation={k: round(v, 4) for k, v in evaluation.as_dict().items()},
            finish_reasons=list(result.finish_reasons),
        )

    def _record_evaluation(self, scores: Sequence[EvaluationScore], chat: ChatCall) -> None:
        """Each score → the evaluation histogram + a gen_ai.evaluation.result event on the chat
        span (the answer it judges)."""
        for score in scores:
            self.tel.metrics.observe_evaluation(score.name, score.value)
            self.tel.event(
                sc.EVENT_EVALUATION_RESULT,
                {
                    sc.A_EVALUATION_NAME: score.name,
                    sc.A_EVALUATION_SCORE_VALUE: score.value,
                    sc.A_EVALUATION_SCORE_LABEL: score.label,
                    sc.A_RESPONSE_ID: chat.response_id,
                },
                chat.span_context,
            )

    @staticmethod
    def _add(
        total: float | None, cost: float | None, *, unpriced_is_none: bool = False
    ) -> float | None:
        if total is None:
            return None
        if cost is None:
            return None if unpriced_is_none else total
        return total + cost

    @property
    def _data_source(self) -> str:
        """gen_ai.data_source.id of the corpus the retrieval worker searches."""
        return str(getattr(self.retriever, "data_source_id", "corpus"))

    def _retrieve(self, question: str) -> list[RetrievedDoc]:
        source = self._data_source
        with self.tel.operation(
            sc.OP_RETRIEVAL,
            source,
            provider=RETRIEVAL_PROVIDER,
            kind=SpanKind.CLIENT,
            # gen_ai.request.top_k is a double in the spec.
            attributes={sc.A_DATA_SOURCE_ID: source, sc.A_REQUEST_TOP_K: float(self.top_k)},
        ) as op:
            if self.tel.capture_content:  # the user's question: opt-in content
                op.set(sc.A_RETRIEVAL_QUERY_TEXT, redact(question))
            docs = list(self.retriever.search(question, self.top_k))
            if self.tel.capture_retrieval_documents:  # opt-in in the spec
                op.set(
                    sc.A_RETRIEVAL_DOCUMENTS,
                    # Redacted here, not on span end (tracing.REDACTED_AT_SOURCE).
                    json.dumps([{"id": redact(d.id), "score": round(d.score, 4)} for d in docs]),
                )
        top = max((d.score for d in docs), default=None)
        self.tel.metrics.observe_retrieval(len(docs), top)
        return docs

    async def _chat(
        self, inp: ChatInput, docs: Sequence[RetrievedDoc], on_chunk: OnChunk | None
    ) -> ChatCall:
        req = ChatRequest(
            model=inp.model,
            messages=build_messages(inp.question, docs),
            max_tokens=inp.max_tokens,
            temperature=inp.temperature,
            stream=on_chunk is not None,
            context=docs,
        )
        if on_chunk is None:
            return await self.client.chat(req)
        return await self.client.stream(req, on_chunk)
