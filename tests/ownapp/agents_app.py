"""A user's own agent app: the OpenAI Agents SDK (`openai-agents` 0.24.0) with one function tool,
instrumented ONLY with the official `opentelemetry-instrumentation-genai-openai-agents` and
`opentelemetry-instrumentation-genai-openai` (1.3b0, on `opentelemetry-util-genai` 1.3b0), as a
user runs both; metrics on /metrics through `opentelemetry-exporter-prometheus`, scraped by
Prometheus. No project code, no hand-written metric.

    OWNAPP_OPENAI_URL=http://127.0.0.1:PORT/v1 python -m tests.ownapp.agents_app --port 8001

Route: POST /api/agent {question, fail_tool}: one agent run (`weather_agent`, in the SDK's
default workflow), whose model answers with a `get_weather` tool call and then with text; the
tool raises when `fail_tool` is set (the SDK hands the error to the model and the run goes on).
A provider 429 answers 503, any other provider error 502. The SDK's own trace export to
OpenAI's platform is off: nothing leaves the machine.
"""

from __future__ import annotations

import os

import openai
from agents import Agent, OpenAIChatCompletionsModel, RunContextWrapper, Runner, function_tool
from fastapi import FastAPI
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.instrumentation.genai.openai_agents import OpenAIAgentsInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import make_asgi_app
from pydantic import BaseModel

from tests.ownapp import shapes

AGENT = "weather_agent"
TOOL = "get_weather"


class Run(BaseModel):
    question: str = "Weather in Paris?"
    fail_tool: bool = False


def _setup_telemetry() -> None:
    provider = MeterProvider(resource=Resource.create(), metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    OpenAIInstrumentor().instrument()
    OpenAIAgentsInstrumentor().instrument(disable_openai_trace_export=True)


@function_tool
def get_weather(ctx: RunContextWrapper[Run], city: str) -> str:
    """The weather of a city."""
    if ctx.context.fail_tool:
        raise RuntimeError("weather service down")
    return f"Sunny in {city}"


def create_app() -> FastAPI:
    _setup_telemetry()
    # No retries: each injected provider error is one failed call, as the tests count them.
    client = openai.AsyncOpenAI(
        base_url=os.environ["OWNAPP_OPENAI_URL"], api_key="sk-ownapp-test", max_retries=0
    )
    model = OpenAIChatCompletionsModel(model=shapes.DEFAULT_MODEL, openai_client=client)
    agent = Agent[Run](name=AGENT, instructions="Answer.", model=model, tools=[get_weather])
    app = FastAPI(title="ownapp-agents")

    @app.post("/api/agent")
    async def run(body: Run) -> dict[str, str]:
        try:
            result = await Runner.run(agent, body.question, context=body)
        except openai.APIStatusError as exc:
            raise shapes.provider_error(exc.status_code) from exc
        return {"answer": str(result.final_output)}

    shapes.add_healthz(app)
    app.mount("/metrics", make_asgi_app())
    return app


if __name__ == "__main__":
    shapes.serve(create_app, __doc__.split("\n\n")[0])
