"""The shipped rules and dashboards against a user's own app (tests/ownapp/app.py).

A real Prometheus (Debian 2.42 here) scrapes the app's /metrics (opentelemetry-exporter-
prometheus) under the app's own job name and loads the shipped rule files; the app calls a fake
OpenAI-compatible server over real HTTP (chat, streamed chat, embeddings; scripted 500s and
429s, and streamed chats whose first chunk comes late). The rules and dashboards are what
`python -m generators --config` renders from a copy of the shipped genai-obs.yaml pointed at the
app (service, job, routes, no rag-api extras): the user's own step 4 of docs/own-app.md, nothing
rewritten by hand.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import yaml
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GenAiOperationNameValues,
)

import generators
from genai_telemetry import semconv as sc
from genobs import contract
from harness import ROOT, free_port, poll
from harness.fake_openai import FakeOpenAI, fake_openai_server
from harness.grafana_variables import variable_query
from harness.process import Proc, ProcessError, start_command_app
from harness.procs import PROMETHEUS_CONFIG, start_prometheus, start_python_app
from tests.grafana import dashlib, livestack, selection

JOB = "ownapp"
# What a user changes in genai-obs.yaml for this app (docs/own-app.md).
CONFIG = {
    "service_name": JOB,
    "selectors": {
        "service": f'job="{JOB}"',
        "http_chat_route": 'http_route=~"/api/ask.*"',
        "http_unary_chat_route": 'http_route="/api/ask"',
    },
    "extras": False,
    # FastAPI's default HTTP buckets have no 5.12 s bound: SLIMetricsAbsent rightly says this SLO
    # has no data unless skipped. (llm-ttft is kept: genai-openai records time to first chunk.)
    "skip_slos": ["chat-latency"],
}
PRICED = ("gpt-4o-mini", "gpt-4.1")
UNPRICED = "my-finetune"  # a model the price table does not know
SCRAPE = "1s"
CALLS_PER_PASS = 48  # the second pass alone clears the SLO pages' 30-event guard
# Streamed chats of one model whose first chunk the fake holds back, after the faulty run's second
# pass: SLOW of LATE_STREAMS above LLMTTFTP95High's 1.28 s threshold (in the 2.56 s bucket), and
# with the pass's own 7 streams of that model over the alert's 10-event guard.
LATE_MODEL = PRICED[1]
LATE_STREAMS = 6
SLOW_FIRST_CHUNK_S = 1.5

# What a query needs. Standard: GenAI/HTTP semconv metrics any instrumented app emits (and what
# the shipped rules record from them); agents: the agent-framework durations; extras: rag-api's
# own metrics; stack: the stack's components. A query is standard when it can work from standard
# metrics alone.
STANDARD = re.compile(
    r"\b(gen_ai_client_\w+|http_server_request_duration_seconds\w*|llm:(price|token_cost|cost"
    r"|unpriced)\w*|slo:\w+)"
)
# The agent, tool and workflow durations of the agent-framework instrumentations: data only for
# an app that runs agents (tests/ownapp/test_agents_live.py).
AGENTS = re.compile(r"\bgen_ai_(invoke_agent|execute_tool|invoke_workflow)_duration_seconds")
STACK = re.compile(r"\b(otelcol_|loki_|tempo_|traces_|prometheus_|alertmanager_|up\b|grafana_)")
EXTRAS = re.compile(r"\b(llm_(cost|cache|active|unpriced)\w*|rag_\w+)")
# rag-api's own metrics that no standard series stands in for (the cost rules fall back to token
# usage × price, these do not): a query that reads one needs rag-api, whatever else it reads.
NEEDS_EXTRAS = re.compile(
    r"\b("
    + "|".join(sorted(m for m in contract.EXTRAS if m not in (sc.LLM_COST, sc.LLM_UNPRICED_TOKENS)))
    + r")"
)


def render_artifacts(dest: Path, changes: Mapping[str, Any] | None = None) -> Path:
    """The generators' output for CONFIG, then an app's own `changes`, under dest (same
    repo-relative paths)."""
    config = yaml.safe_load((ROOT / "genai-obs.yaml").read_text())
    for key, value in [*CONFIG.items(), *(changes or {}).items()]:
        config[key] = {**config[key], **value} if isinstance(value, dict) else value
    path = dest / "genai-obs.yaml"
    dest.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    for rel, text in generators.render(path).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    return dest


def kind(expr: str) -> str:
    if re.match(r"\s*ALERTS\b", expr):
        return "alerts"  # data only while such an alert is active
    if AGENTS.search(expr):
        return "agents"
    if STACK.search(expr) and not STANDARD.search(expr):
        return "stack"
    if NEEDS_EXTRAS.search(expr):
        return "extras"
    if STANDARD.search(expr):
        return "standard"
    return "extras" if EXTRAS.search(expr) else "other"


FakeT = TypeVar("FakeT")


@dataclass(frozen=True)
class App:
    """A test app module and the loopback fake of its provider (the app reads its URL from
    `url_env`)."""

    module: str
    url_env: str
    fake_server: Callable[[], AbstractContextManager[Any]]
    # What this app's user changes in genai-obs.yaml on top of CONFIG (e.g. its chat route).
    config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # The command that starts an app in another language on a port (None: `python -m module`).
    command: Callable[[int], list[str]] | None = None
    # The shipped Prometheus config whose one scrape job scrapes the app (rag-api's job, renamed,
    # by default).
    scrape_config: Path = PROMETHEUS_CONFIG
    # Extra environment of the app process (e.g. an instrumentation switched on).
    env: Mapping[str, str] = field(default_factory=dict, hash=False)


OPENAI_APP = App("tests.ownapp.app", "OWNAPP_OPENAI_URL", fake_openai_server)


@dataclass
class Run(Generic[FakeT]):
    app: Proc
    prometheus: Proc
    fake: FakeT
    artifacts: Path
    statuses: dict[int, int] = field(default_factory=dict)

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.prometheus.url}/api/v1/query"
        body = httpx.get(url, params={"query": expr}, timeout=30, verify=livestack.TLS).json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def live(self) -> livestack.LiveStack:
        return livestack.LiveStack(self.app, self.prometheus, self.prometheus, self.statuses)


def start_app(tmp: Path, fake_url: str, app: App = OPENAI_APP, port: int | None = None) -> Proc:
    env = {
        app.url_env: fake_url,
        "OTEL_SERVICE_NAME": JOB,
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http",  # the FastAPI server metric; not GenAI
        **app.env,
    }
    if app.command is None:
        return start_python_app(
            tmp, app.module, env=env, name=JOB, ready_path="/healthz", port=port
        )
    return start_command_app(tmp, app.command, env, name=JOB, ready_path="/healthz", port=port)


def _start_prometheus(tmp: Path, artifacts: Path, app_address: str, source: Path) -> Proc:
    """`source`'s job of the app (rag-api's in the shipped prometheus.yml) scrapes it as JOB."""
    jobs = yaml.safe_load(source.read_text())["scrape_configs"]
    if source == PROMETHEUS_CONFIG:
        jobs = [j for j in jobs if j["job_name"] == "rag-api"]
    (job,) = jobs
    return start_prometheus(
        tmp,
        source=source,
        targets={job["static_configs"][0]["targets"][0]: app_address},
        job_names={job["job_name"]: JOB},
        interval=SCRAPE,
        rule_files=sorted((artifacts / "prometheus" / "rules").glob("*.yml")),
        rule_group_interval=SCRAPE,
    )


def _start(tmp: Path, spec: App, fake_url: str, artifacts: Path) -> tuple[Proc, Proc]:
    """The app and its Prometheus, started side by side: Prometheus applies its scrape targets
    only some 5 s after it starts, so started with the app it scrapes it about as soon as it is
    up (~3 s less per run). The app gets the port Prometheus was told; should that port be lost
    to a bind race, the two start again one after the other."""
    port = free_port()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(
            _start_prometheus, tmp, artifacts, f"127.0.0.1:{port}", spec.scrape_config
        )
        try:
            app = start_app(tmp, fake_url, spec, port)
        except BaseException as err:
            with suppress(Exception):
                pending.result().stop()
            if not (isinstance(err, ProcessError) and "address already in use" in str(err)):
                raise
            app = start_app(tmp, fake_url, spec)
            pending = pool.submit(
                _start_prometheus, tmp / "again", artifacts, app.address, spec.scrape_config
            )
        try:
            return app, pending.result()
        except BaseException:
            app.stop()
            raise


@contextmanager
def running(tmp: Path, spec: App = OPENAI_APP) -> Iterator[Run[Any]]:
    """`spec`'s app on its fake, scraped by a real Prometheus with the rules rendered for it."""
    artifacts = render_artifacts(tmp / "artifacts", spec.config)
    with spec.fake_server() as fake:
        app, prometheus = _start(tmp, spec, fake.url, artifacts)
        try:
            run = Run(app, prometheus, fake, artifacts)
            _wait_until_scraped(run)
            yield run
        finally:
            prometheus.stop()
            app.stop()


def _wait_until_scraped(run: Run[Any], timeout: float = 30) -> None:
    """Prometheus finds new targets only after a few seconds: traffic before the first scrape
    would be invisible to rate()."""
    poll(f"Prometheus scrapes {JOB}", lambda: run.query(f'up{{job="{JOB}"}} == 1'), timeout)


def wait_for_scrape(run: Run[Any], timeout: float = 30) -> None:
    """Until Prometheus holds a scrape of the app that began after this call."""
    since = time.time()
    query = f'timestamp(up{{job="{JOB}"}}) > {since:.3f}'
    poll(f"a scrape of {JOB} after {since:.3f}", lambda: run.query(query), timeout)


def prime(run: Run[Any], send: Callable[[], object], errors: Iterable[str]) -> None:
    """Before a faulty run's passes: one call failing with each of `errors` (fake script steps)
    and one that succeeds, then a fresh scrape. A series born mid-pass loses, to rate(), the
    calls made before its first scrape; primed, every series the passes move is in Prometheus
    before they start and all their calls count alike (unprimed, the Node.js test once saw
    LLMProviderRateLimited stay silent at a sixth of the chat calls rate limited)."""
    for error in dict.fromkeys(errors):
        run.fake.script.append(error)
        send()
    send()
    wait_for_scrape(run)


def two_passes(run: Run[Any], one_pass: Callable[[int], object]) -> None:
    """`one_pass(0)` creates every series, `one_pass(1)` moves them: between them, a scrape that
    began after the first pass's last answer, so each series has a sample before the calls
    rate() is to count. Then scrapes of the final counts, and rule evaluations on top of them."""
    one_pass(0)
    wait_for_scrape(run)
    one_pass(1)
    time.sleep(4)


def _call(client: httpx.Client, run: Run[FakeOpenAI], path: str, body: dict[str, Any]) -> None:
    r = client.post(path, json=body)
    if path.endswith("/stream"):
        r.read()
    run.statuses[r.status_code] = run.statuses.get(r.status_code, 0) + 1


def _late_streams(client: httpx.Client, run: Run[FakeOpenAI]) -> None:
    """LATE_STREAMS streamed chats of LATE_MODEL, every other one with its first chunk held back
    SLOW_FIRST_CHUNK_S by the fake (the instrumentation times the first chunk from the call)."""
    for i in range(LATE_STREAMS):
        run.fake.latency_s = SLOW_FIRST_CHUNK_S if i % 2 == 0 else 0.0
        try:
            body = {"question": f"late question {i}", "model": LATE_MODEL}
            _call(client, run, "/api/ask/stream", body)
        finally:
            run.fake.latency_s = 0.0


def drive(run: Run[FakeOpenAI], *, faults: bool) -> None:
    """Two passes (the first creates every series, the second moves them) of chats, streamed
    chats, embeddings and an unpriced model; with `faults`, a third of the chats fail with a
    provider 500 or 429, and after the second pass half of LATE_STREAMS streamed chats start
    late."""
    with httpx.Client(base_url=run.app.url, timeout=30) as client:
        if faults:  # the faulty calls all go to PRICED[0]: its series are the ones primed
            body = {"question": "primer", "model": PRICED[0]}
            prime(run, lambda: _call(client, run, "/api/ask", body), ("429", "500"))

        def one_pass(n: int) -> None:
            for i in range(CALLS_PER_PASS):
                model = UNPRICED if i % 9 == 4 else PRICED[i % len(PRICED)]
                if faults and i % 3 == 2:
                    run.fake.script.append("500" if i % 2 else "429")
                path = "/api/ask/stream" if i % 4 == 1 else "/api/ask"
                _call(client, run, path, {"question": f"pass {n} question {i}", "model": model})
                if i % 6 == 0:
                    _call(client, run, "/api/embed", {"text": f"document {n}-{i}"})
            if n and faults:
                _late_streams(client, run)

        two_passes(run, one_pass)


def panel_results(run: Run[Any]) -> list[dict[str, str]]:
    """Every PromQL query of the dashboards rendered for the app: data or not."""
    dashboards = dashlib.load(run.artifacts / "grafana" / "dashboards")
    by_uid = {d["uid"]: d for d in dashboards.values()}
    out = []
    for q in dashlib.queries(dashboards):
        if q.lang not in ("promql", *dashlib.VARIABLE_LANGS):
            continue
        problem = livestack.check_query(run.live(), q, by_uid[q.dashboard])
        result = (
            "data"
            if problem is None
            else "error"
            if problem.startswith("Prometheus")
            else "no data"
        )
        out.append(
            {
                "dashboard": q.dashboard,
                "where": q.where,
                "kind": kind(q.text),
                "result": result,
                "query": q.text,
            }
        )
    return out


def active_alerts(run: Run[Any]) -> dict[str, set[str]]:
    """alertname → the `slo` labels (or "") of its pending or firing series."""
    out: dict[str, set[str]] = {}
    for s in run.query('ALERTS{alertstate=~"pending|firing"}'):
        out.setdefault(s["metric"]["alertname"], set()).add(s["metric"].get("slo", ""))
    return out


def slo_series(run: Run[Any]) -> dict[str, bool]:
    """slo → whether its 5m error ratio is recorded as a number (the SLI has data)."""
    names = {s["metric"]["slo"] for s in run.query("slo:info")}
    ratios = run.query("slo:error_ratio:rate5m")
    recorded = {s["metric"]["slo"] for s in ratios if s["value"][1] not in ("NaN", "+Inf")}
    return {name: name in recorded for name in sorted(names)}


def variable_values(run: Run[Any]) -> dict[str, set[str]]:
    """ "dashboard: $variable" → the values Grafana would list, for the dashboards rendered for
    the app (Prometheus query variables)."""
    out = {}
    for d in dashlib.load(run.artifacts / "grafana" / "dashboards").values():
        for name, var in dashlib.variables(d).items():
            if var.get("type") == "query" and variable_query(var):
                out[f"{d['uid']}: ${name}"] = livestack.variable_values(run.live(), var, d)[1]
    return out


def filter_problems(run: Run[Any], uids: tuple[str, ...]) -> list[str]:
    """tests/grafana/selection.problems on the rendered dashboards `uids`: each variable's
    values, one and two at a time, give the rows of All."""
    dashboards = dashlib.load(run.artifacts / "grafana" / "dashboards").values()
    return [p for d in dashboards if d["uid"] in uids for p in selection.problems(run.live(), d)]


# The operations the GenAI conventions name (the semconv package's well-known values).
OPERATIONS = frozenset(v.value for v in GenAiOperationNameValues)


def operation_names(run: Run[Any]) -> set[str]:
    """Every gen_ai_operation_name on the app's series. A value outside OPERATIONS means an
    instrumentation or exporter mislabelled a series (exporter-prometheus 0.66b2 writes a second
    scope's points under the first scope's label names; docs/own-app.md, LlamaIndex)."""
    series = run.query(f'group by ({sc.L_OPERATION}) ({{__name__=~"gen_ai_.+", job="{JOB}"}})')
    return {s["metric"].get(sc.L_OPERATION, "") for s in series} - {""}
