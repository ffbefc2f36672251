"""A user's own LangChain agent app: `langchain.agents.create_agent` (LangChain 1.5, on LangGraph)
with a `ChatOpenAI` model and one tool, instrumented ONLY with the official
`opentelemetry-instrumentation-genai-langchain` 1.3b0 (on `opentelemetry-util-genai` 1.3b0), as
its user runs it; metrics on /metrics through `opentelemetry-exporter-prometheus`, scraped by
Prometheus. No project code, no hand-written metric.

    OWNAPP_OPENAI_URL=http://127.0.0.1:PORT/v1 python -m tests.ownapp.langchain_app --port 8001

Route: POST /api/agent {question, fail_tool}: one agent run (`weather_agent`), whose model answers
with a `get_weather` tool call and then with text; the tool raises when `fail_tool` is set, and
LangChain's `ToolRetryMiddleware` (no retry, `on_failure="continue"`) hands the error to the
model as a message: the run goes on. A provider 429 answers 503, any other provider error 502.
"""

from __future__ import annotations

import contextvars
import os

import openai
from fastapi import FastAPI
from langchain.agents import create_agent
from langchain.agents.middleware import ToolRetryMiddleware
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import make_asgi_app
from pydantic import BaseModel

from tests.ownapp import shapes

AGENT = "weather_agent"
TOOL = "get_weather"
WORKFLOW = "weather_workflow"
_FAIL_TOOL: contextvars.ContextVar[bool] = contextvars.ContextVar("fail_tool", default=False)


class Run(BaseModel):
    question: str = "Weather in Paris?"
    fail_tool: bool = False


def _setup_telemetry() -> None:
    provider = MeterProvider(resource=Resource.create(), metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    LangChainInstrumentor().instrument()


@tool
def get_weather(city: str) -> str:
    """The weather of a city."""
    if _FAIL_TOOL.get():
        raise RuntimeError("weather service down")
    return f"Sunny in {city}"


def create_app() -> FastAPI:
    _setup_telemetry()
    # No retries: each injected provider error is one failed call, as the tests count them.
    model = ChatOpenAI(
        model=shapes.DEFAULT_MODEL,
        base_url=os.environ["OWNAPP_OPENAI_URL"],
        api_key="sk-ownapp-test",
        max_retries=0,
    )
    # A failed tool call goes back to the model as an error message, as agents commonly run.
    on_tool_error = ToolRetryMiddleware(max_retries=0, on_failure="continue")
    agent = create_agent(
        model, tools=[get_weather], system_prompt="Answer.", name=AGENT, middleware=[on_tool_error]
    )
    # The agent as the one step of a LangGraph workflow, as multi-step apps compose agents.
    graph = StateGraph(MessagesState)
    graph.add_node(AGENT, agent)
    graph.add_edge(START, AGENT)
    workflow = graph.compile(name=WORKFLOW)
    app = FastAPI(title="ownapp-langchain")

    @app.post("/api/agent")
    async def run(body: Run) -> dict[str, str]:
        _FAIL_TOOL.set(body.fail_tool)
        try:
            question = {"role": "user", "content": body.question}
            state = await workflow.ainvoke({"messages": [question]})
        except openai.APIStatusError as exc:
            raise shapes.provider_error(exc.status_code) from exc
        return {"answer": str(state["messages"][-1].content)}

    shapes.add_healthz(app)
    app.mount("/metrics", make_asgi_app())
    return app


if __name__ == "__main__":
    shapes.serve(create_app, __doc__.split("\n\n")[0])
