"""Two services exported into one Prometheus: rag-api (the default genai-obs.yaml) and my-llm-app
(its own config, stack_alerts: false). Their rule files load side by side without a shared name,
each service's recorded series and alerts are its own (promtool evaluates both exports' files
together), and the object names and the Mimir sync regex keep the services apart.
Starts processes: promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import promql_parser
import pytest
import yaml

from export.rules import NAME_PREFIX, slug
from genobs.contract import is_recorded
from genobs.promql import match_op, selectors
from grafana.dashgen.render import BUILDERS
from harness import require_binary
from harness.grafana_variables import variable_query
from slo.stack_alerts import STACK_ALERTS
from tests.configs import MY_LLM_APP, own_config
from tests.export.exported import export, rule_groups
from tests.grafana import dashlib
from tests.grafana.ratio_lint import vector_selectors

A, B = "rag-api", "my-llm-app"
TARGETS = (
    "--target",
    "prometheus",
    "--target",
    "mimir",
    "--target",
    "kubernetes",
    "--target",
    "grafana",
)
HTTP = "http_server_request_duration_seconds"
CHAT = 'http_route="/v1/chat"'


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("two")
    config = own_config(
        tmp / "my.yaml",
        *MY_LLM_APP,
        ("skip_slos: []", "skip_slos: [llm-ttft]"),
        ("stack_alerts: true", "stack_alerts: false"),
        ("uid_prefix: ''", "uid_prefix: 'my-'"),
    )
    a = export(tmp / "a", "--profile", "demo", *TARGETS)
    b = export(tmp / "b", "--profile", "demo", "--config", str(config), *TARGETS)
    return a, b


def _names(directory: Path, pattern: str) -> set[str]:
    return {p.name for p in directory.glob(pattern)}


def test_nothing_is_named_twice(exports: tuple[Path, Path]) -> None:
    a, b = exports
    for pattern in ("prometheus/rules/*", "mimir/rules/*", "kubernetes/*/*", "grafana/*/*"):
        assert _names(a, pattern) and _names(b, pattern)
        assert not _names(a, pattern) & _names(b, pattern), pattern
    assert "stack-alerts.yml" in _names(a, "prometheus/rules/*")  # one export carries the stack's
    objects = [
        {yaml.safe_load(p.read_text())["metadata"]["name"] for p in d.glob("kubernetes/*/*.yaml")}
        for d in exports
    ]
    assert not objects[0] & objects[1]
    keys = [
        {
            k
            for p in d.glob("kubernetes/grafana-dashboards/*")
            for k in yaml.safe_load(p.read_text())["data"]
        }
        for d in exports
    ]
    # The sidecar writes keys as file names.
    assert len(keys[0]) == len(BUILDERS) and not keys[0] & keys[1]
    titles = [
        {d["title"] for d in dashlib.load(e / "grafana" / "dashboards").values()} for e in exports
    ]
    # One folder lists both sets.
    assert len(titles[1]) == len(BUILDERS) and not titles[0] & titles[1]
    assert all(t.endswith(f" · {B}") for t in titles[1]), titles[1]


def test_each_mimir_sync_touches_its_own_namespaces_only(exports: tuple[Path, Path]) -> None:
    namespaces = [
        {yaml.safe_load(p.read_text())["namespace"] for p in d.glob("mimir/rules/*.yml")}
        for d in exports
    ]
    for mine, theirs, directory in ((*namespaces, exports[0]), (*namespaces[::-1], exports[1])):
        readme = (directory / "README.md").read_text()
        regex = re.search(r"--namespaces-regex='([^']+)'", readme)
        assert regex, readme
        assert all(re.fullmatch(regex.group(1), n) for n in mine), regex.group(1)
        assert not any(re.fullmatch(regex.group(1), n) for n in theirs), regex.group(1)
        assert all(n.startswith(NAME_PREFIX) for n in mine)
    # A service whose name starts with another's: the regexes still keep them apart.
    assert not re.fullmatch(r"^genai-obs\.(rag\..+|stack-alerts)$", f"{NAME_PREFIX}{A}.llm-alerts")


def _unscoped(selector: promql_parser.VectorSelector, service: str) -> bool:
    """A read of recorded series or alerts that other services' copies could also match."""
    if selector.name != "ALERTS" and not is_recorded(selector.name or ""):
        return False
    found = {(m.name, match_op(m.op), m.value) for m in selector.matchers.matchers}
    stack = "|".join(a.name for a in STACK_ALERTS if a.name != "Watchdog")
    if selector.name == "ALERTS" and ("alertname", "=~", stack) in found:
        return False  # the stack's alerts, shared by every service on purpose
    return ("service", "=", service) not in found


@pytest.mark.parametrize("index", [0, 1])
def test_each_dashboard_reads_its_own_service_only(exports: tuple[Path, Path], index: int) -> None:
    """Every dashboard query over recorded series or ALERTS (targets, variables, annotations)
    pins `service`: with both services' rules in one Prometheus, the SLO dashboard of one must
    not list the other's SLOs, nor the stack dashboard its alerts."""
    service = (A, B)[index]
    dashboards = dashlib.load(exports[index] / "grafana" / "dashboards")
    assert len(dashboards) == len(BUILDERS)
    checked, leaks = 0, []
    for query in dashlib.queries(dashboards):
        text = dashlib.substitute(query.text, dashboards_by_uid(dashboards)[query.dashboard])
        if query.lang in dashlib.VARIABLE_LANGS:
            by_uid = dashboards_by_uid(dashboards)[query.dashboard]
            found = variable_query(dashlib.variable_of(query, by_uid))
            assert found, query.id
            text = dashlib.substitute(found.promql, by_uid) or "vector(0)"
        elif query.lang != "promql":
            continue
        for selector in vector_selectors(promql_parser.parse(text)):
            checked += 1
            if _unscoped(selector, service):
                leaks.append(f"{query.id}: {selector}")
    assert checked > 200 and not leaks, leaks


def dashboards_by_uid(dashboards: dict[str, dict]) -> dict[str, dict]:
    return {d["uid"]: d for d in dashboards.values()}


def test_service_names_that_fold_alike_keep_apart_names() -> None:
    names = ["my-app", "my_app", "My.App", "my/app", "MY-APP"]
    slugs = [slug(n) for n in names]
    assert slugs[0] == "my-app" and len(set(slugs)) == len(names), slugs
    assert all(re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", s) for s in slugs), slugs


def _rules(directory: Path) -> list[dict]:
    return [
        r
        for p in sorted(directory.glob("prometheus/rules/*.yml"))
        for g in rule_groups(p)
        for r in g["rules"]
    ]


@pytest.mark.parametrize("index", [0, 1])
def test_every_recorded_series_is_written_and_read_with_its_service(
    exports: tuple[Path, Path], index: int
) -> None:
    service = (A, B)[index]
    checked = 0
    for rule in _rules(exports[index]):
        if "record" in rule:
            assert rule["labels"]["service"] == service, rule["record"]
        for name, end, braces in selectors(rule["expr"]):
            if is_recorded(name):
                checked += 1
                inside = rule["expr"][end:].split("}", 1)[0] if braces else ""
                assert f'service="{service}"' in inside, (rule.get("alert") or rule["record"], name)
    assert checked > 100


def _series() -> list[dict[str, str]]:
    """rag-api: every chat fails, and it reports its own cost (30 USD/h). my-llm-app: healthy,
    priced from its token usage only (100 gpt-4o-mini input tokens/s = 0.054 USD/h). Groups are
    not ordered (both exports have an `llm-recording`): steady rates make the order moot."""
    rows = [
        (f'{HTTP}_count{{job="{A}", {CHAT}, http_response_status_code="500"}}', "0+60x90"),
        (f'llm_cost_usd_total{{job="{A}", gen_ai_request_model="gpt-4o-mini"}}', "0+0.5x90"),
        (f'{HTTP}_count{{job="{B}", {CHAT}, http_response_status_code="200"}}', "0+60x90"),
        (
            f'{HTTP}_bucket{{job="{B}", {CHAT}, http_response_status_code="200", le="5.12"}}',
            "0+60x90",
        ),
        (
            f'{HTTP}_bucket{{job="{B}", {CHAT}, http_response_status_code="200", le="+Inf"}}',
            "0+60x90",
        ),
    ]
    model = 'gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o-mini"'
    for job in (A, B):
        chat = f'job="{job}", gen_ai_operation_name="chat", {model}'
        rows.append((f"gen_ai_client_operation_duration_seconds_count{{{chat}}}", "0+60x90"))
        rows.append(
            (f'gen_ai_client_token_usage_sum{{{chat}, gen_ai_token_type="input"}}', "0+6000x90")
        )
    return [{"series": s, "values": v} for s, v in rows]


def test_one_prometheus_keeps_each_services_cost_and_alerts_apart(
    exports: tuple[Path, Path], tmp_path: Path
) -> None:
    promtool = require_binary("promtool")
    files = []
    for directory in exports:
        for path in sorted(directory.glob("prometheus/rules/*.yml")):
            shutil.copy(path, tmp_path / path.name)
            files.append(path.name)
    prices = sum(1 for r in _rules(exports[0]) if r.get("record") == "llm:price_usd_per_token")
    at = "70m"
    exprs = [
        {  # in mUSD per hour, rounded: rate() of these inputs carries float noise
            "expr": "round(llm:cost_usd_per_hour:rate5m * 1000)",
            "eval_time": at,
            "exp_samples": [
                {"labels": f'{{service="{A}"}}', "value": 30_000},
                {"labels": f'{{service="{B}"}}', "value": 54},
            ],
        },
        {
            "expr": "count by (service) (llm:price_usd_per_token)",
            "eval_time": at,
            "exp_samples": [{"labels": f'{{service="{s}"}}', "value": prices} for s in (A, B)],
        },
    ]
    fired = {}
    for service, directory in zip((A, B), exports, strict=True):
        for rule in _rules(directory):
            if rule.get("alert") in ("SLOFastBurn", "LLMDailySpendProjectedOverBudget"):
                fired[(service, rule["alert"])] = rule["expr"]
    assert len(fired) == 4
    # rag-api's incident pages rag-api's alerts; my-llm-app's same alerts stay quiet.
    for (service, alert), expr in fired.items():
        labels = {
            "SLOFastBurn": f'service="{A}", slo="chat-availability"',
            "LLMDailySpendProjectedOverBudget": f'service="{A}"',
        }
        exp = [{"labels": f"{{{labels[alert]}}}", "value": 1}] if service == A else []
        by = "service, slo" if alert == "SLOFastBurn" else "service"
        exprs.append({"expr": f"group by ({by}) ({expr})", "eval_time": at, "exp_samples": exp})
    test = {
        "rule_files": files,
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": _series(), "promql_expr_test": exprs}],
    }
    (tmp_path / "two.test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    res = subprocess.run(
        [promtool, "test", "rules", "two.test.yml"], capture_output=True, text=True, cwd=tmp_path
    )
    assert res.returncode == 0, res.stdout + res.stderr
