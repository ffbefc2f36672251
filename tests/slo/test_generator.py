"""The SLO and alert rules: shaped as promised, thresholds from one file, and a bad spec fails
with file, line, SLO and field. (Freshness of the committed files: tests/generators.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from genobs.config import load_config
from harness import ROOT
from slo import generate_all as _generate_all
from slo.rules import SECONDS as RULE_SECONDS
from slo.spec import SPEC_PATH, SpecError, load_spec
from slo.thresholds import THRESHOLDS_PATH, load_thresholds


def generate_all(spec: Path = SPEC_PATH, thresholds: Path = THRESHOLDS_PATH) -> dict[str, str]:
    return _generate_all(load_config(), spec, thresholds)


WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
SLO_NAMES = [
    "chat-availability",
    "chat-latency",
    "llm-chat-success",
    "llm-ttft",
    "rag-answer-quality",
    "rag-user-satisfaction",
]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generators", *args], capture_output=True, text=True, cwd=cwd
    )


def _slo_file(name: str) -> dict:
    return yaml.safe_load((ROOT / f"prometheus/rules/slo-{name}.yml").read_text())


@pytest.mark.parametrize("name", SLO_NAMES)
def test_golden_shape_of_each_slo(name: str) -> None:
    groups = _slo_file(name)["groups"]
    records = {r["record"]: r for g in groups for r in g["rules"]}
    for w in WINDOWS:
        for kind in ("error_events", "total_events", "error_ratio", "burn_rate"):
            rule = records[f"slo:{kind}:rate{w}"]
            assert rule["labels"]["service"] == "rag-api" and rule["labels"]["slo"] == name
            if kind in ("error_events", "total_events") and w in ("5m", "1h"):
                assert 'job="rag-api"' in rule["expr"], "service selector on the SLI"
    for meta in (
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:period:seconds",
        "slo:error_budget_remaining:ratio",
        "slo:events:increase30d",
        "slo:min_events_for_paging:count",
        "slo:info",
    ):
        assert meta in records
    # an error-free window reads 0, not "no data"; a histogram's missing threshold bucket
    # reads "no data" (SLIMetricsAbsent), never 0
    sli = {s["name"]: s["sli"] for s in yaml.safe_load(SPEC_PATH.read_text())["slos"]}[name]
    events = "histogram" not in sli
    assert ("\nor\n0 * " in records["slo:error_events:rate5m"]["expr"]) == events
    # long windows: ratio of sums of the recorded 5m rates
    assert records["slo:error_events:rate30d"]["expr"].startswith(
        "avg_over_time(slo:error_events:rate5m{"
    )


def test_golden_literals() -> None:
    expected = {
        "chat-availability": ("0.995", "0.005"),
        "chat-latency": ("0.95", "0.05"),
        "llm-chat-success": ("0.99", "0.01"),
        "llm-ttft": ("0.95", "0.05"),
        "rag-answer-quality": ("0.9", "0.1"),
        "rag-user-satisfaction": ("0.8", "0.2"),
    }
    for name, (objective, budget) in expected.items():
        records = {r["record"]: r for g in _slo_file(name)["groups"] for r in g["rules"]}
        assert records["slo:objective:ratio"]["expr"] == f"vector({objective})"
        assert records["slo:error_budget:ratio"]["expr"] == f"vector({budget})"
        assert records["slo:burn_rate:rate1h"]["expr"].endswith(f" / {budget}")
        assert records["slo:period:seconds"]["expr"] == "vector(2592000)"


def test_golden_sli_selectors() -> None:
    def expr(name: str) -> str:
        return _slo_file(name)["groups"][0]["rules"][0]["expr"]

    assert 'job="rag-api", http_route="/v1/chat", le="5.12"' in expr("chat-latency")
    chat = 'gen_ai_operation_name=~"chat|generate_content|text_completion"'
    assert f'job="rag-api", {chat}, le="1.28"' in expr("llm-ttft")
    quality = expr("rag-answer-quality")  # good is ABOVE 0.7: the bucket counts the bad ones
    assert quality.startswith(
        "sum(rate(rag_evaluation_score_bucket{"
        'job="rag-api", gen_ai_evaluation_name="faithfulness", le="0.7"}'
    )
    assert 'http_response_status_code=~"5.."' in expr("chat-availability")
    assert f'{chat}, error_type!=""' in expr("llm-chat-success")


def test_generic_alerts() -> None:
    doc = yaml.safe_load((ROOT / "prometheus/rules/slo-alerts.yml").read_text())
    alerts = {r["alert"]: r for r in doc["groups"][0]["rules"]}
    assert set(alerts) == {"SLOFastBurn", "SLOSlowBurn", "SLOTrafficStopped", "SLIMetricsAbsent"}
    fast, slow = alerts["SLOFastBurn"], alerts["SLOSlowBurn"]
    assert (fast["labels"]["severity"], fast["for"]) == ("page", "2m")
    assert (slow["labels"]["severity"], slow["for"]) == ("ticket", "15m")
    svc = '{service="rag-api"}'  # each read of a recorded series is the watched service's
    for window, factor in (("1h", "14.4"), ("5m", "14.4"), ("6h", "6"), ("30m", "6"), ("5m", "6")):
        assert f"(slo:burn_rate:rate{window}{svc} > {factor} or " in fast["expr"]
    for window, factor in (("1d", "3"), ("2h", "3"), ("3d", "1"), ("6h", "1")):
        assert f"(slo:burn_rate:rate{window}{svc} > {factor} or " in slow["expr"]
    cap = f"slo:burn_rate:rate5m{svc} > 0.5 / slo:error_budget:ratio{svc}\nand"  # the outage
    assert cap in fast["expr"]
    assert "slo:min_events_for_paging:count" in fast["expr"]
    assert "slo:min_events_for_paging:count" in slow["expr"]
    assert f"present_over_time(slo:total_events:rate5m{svc}[1h] offset 3d)" in slow["expr"]
    assert "present_over_time" not in fast["expr"]
    # one absence check per series an SLI reads: total, plus the bucket of histogram SLIs
    absent = alerts["SLIMetricsAbsent"]["expr"]
    assert absent.count("absent(") == 6 + 3
    assert 'sli_series", "gen_ai_client_operation_time_to_first_chunk_seconds_count"' in absent
    # an events SLI names the metric its total query reads, not the field it came from
    availability = 'slo="chat-availability", team="genai"}), "sli_series", "http_server_request'
    assert availability in absent
    assert '"total_query"' not in absent


# --- thresholds live in one place ------------------------------------------------------------
def test_every_threshold_flows_from_the_thresholds_file(tmp_path: Path) -> None:
    data = yaml.safe_load(THRESHOLDS_PATH.read_text())
    sentinel = {}
    for i, (name, alert) in enumerate(data["alerts"].items()):
        if "threshold" in alert:
            alert["threshold"] = 9000 + i + 0.25  # a number that appears nowhere else
            sentinel[name] = f"{9000 + i}.25"
    changed = tmp_path / "thresholds.yaml"
    changed.write_text(yaml.safe_dump(data))
    files = generate_all(SPEC_PATH, changed)
    rules = {
        r["alert"]: r
        for name in ("llm-alerts.yml", "stack-alerts.yml")
        for g in yaml.safe_load(files[f"prometheus/rules/{name}"])["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    for name in data["alerts"]:
        assert rules[name]["for"] == load_config().for_of(name)  # `for:` from the profile
        if name in sentinel:
            assert sentinel[name] in rules[name]["expr"], name
    original = generate_all()
    assert "9000" not in original["prometheus/rules/llm-alerts.yml"]
    assert "9000" not in original["prometheus/rules/stack-alerts.yml"]


# --- bad specs -------------------------------------------------------------------------------
def _bad(tmp_path: Path, old: str, new: str) -> str:
    text = SPEC_PATH.read_text()
    assert old in text
    path = tmp_path / "slos.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    return str(err.value)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_field(tmp_path: Path) -> None:
    msg = _bad(tmp_path, "    objective: 0.95\n", "    objective: 0.95\n    objectve: 0.9\n")
    line = _line_of((tmp_path / "slos.yaml").read_text(), "objectve")
    assert msg.startswith(f"{tmp_path / 'slos.yaml'}:{line}: slo 'chat-latency'")
    assert "field 'objectve': unknown field" in msg


def test_objective_out_of_range(tmp_path: Path) -> None:
    msg = _bad(tmp_path, "objective: 0.99\n", "objective: 99\n")
    line = _line_of((tmp_path / "slos.yaml").read_text(), "objective: 99")
    assert f"slos.yaml:{line}: slo 'llm-chat-success': field 'objective'" in msg
    assert "out of range" in msg


def test_threshold_not_a_bucket_bound(tmp_path: Path) -> None:
    msg = _bad(tmp_path, "threshold: 1.28", "threshold: 1.5")
    line = _line_of((tmp_path / "slos.yaml").read_text(), "threshold: 1.5")
    assert f"slos.yaml:{line}: slo 'llm-ttft': field 'sli.histogram.threshold'" in msg
    assert "1.5 is not a bucket bound" in msg and "1.28" in msg


def test_missing_window_placeholder(tmp_path: Path) -> None:
    msg = _bad(tmp_path, 'http_response_status_code=~"5.."}[{{window}}]', 'code=~"5.."}[5m]')
    assert "slo 'chat-availability': field 'sli.events.error_query'" in msg
    assert "{{window}}" in msg


def test_sli_query_must_be_promql(tmp_path: Path) -> None:
    msg = _bad(tmp_path, 'error_type!=""}[{{window}}]))', 'error_type!=""}[{{window}}])')
    line = _line_of((tmp_path / "slos.yaml").read_text(), 'error_type!=""}[{{window}}])') - 1
    assert f"slos.yaml:{line}: slo 'llm-chat-success': field 'sli.events.error_query'" in msg
    assert "not valid PromQL" in msg
    msg = _bad(tmp_path, "{{http_chat_route}}, http_response", "{{http_chat_rout}}, http_response")
    assert "unknown placeholder {{http_chat_rout}}" in msg


def test_two_sli_kinds_and_duplicate_names(tmp_path: Path) -> None:
    msg = _bad(tmp_path, "name: llm-ttft", "name: chat-latency")
    assert "duplicate SLO name" in msg
    msg = _bad(
        tmp_path, "    sli:\n      histogram:", "    sli:\n      events: {}\n      histogram:"
    )
    assert "field 'sli'" in msg


def test_cli_exits_2_without_a_stack_trace(tmp_path: Path) -> None:
    for f in ("slos.schema.json", "thresholds.schema.json"):
        assert (SPEC_PATH.parent / f).is_file()
    bad = tmp_path / "slos.yaml"
    bad.write_text(SPEC_PATH.read_text().replace("threshold: 5.12", "threshold: 5"))
    out = tmp_path / "out"
    shutil.copytree(ROOT / "prometheus" / "rules", out / "prometheus" / "rules")
    with pytest.raises(SpecError, match=re.escape("slo 'chat-latency': field 'sli.histogram")):
        generate_all(bad)
    with pytest.raises(SpecError, match="cannot read"):
        generate_all(tmp_path / "missing.yaml")
    res = _run("--config", str(tmp_path / "missing.yaml"), "--out", str(out))
    assert res.returncode == 2 and "cannot read" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("bad", ["5s1m", "10 m", "1x", "300000y"])
def test_bad_baseline_exclude_names_file_line_and_key(tmp_path: Path, bad: str) -> None:
    """baseline_exclude goes into `offset …`: promtool's duration grammar (genobs.promql's
    duration_problem, as for genai-obs.yaml's durations) decides, and the error says where."""
    path = tmp_path / "thresholds.yaml"
    path.write_text(THRESHOLDS_PATH.read_text().replace("exclude: 10m", f"exclude: {bad}", 1))
    line = _line_of(path.read_text(), f"exclude: {bad}")
    where = (
        f"thresholds.yaml:{line}: field 'alerts.LLMCostSpike.baseline_exclude': {bad!r} is "
        "(not a Prometheus duration|out of range)"
    )
    with pytest.raises(SpecError, match=where):
        load_thresholds(path)


@pytest.mark.parametrize("good", ["10m", "1d", "1h30m", "1w"])
def test_baseline_exclude_takes_any_prometheus_duration(tmp_path: Path, good: str) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_text(THRESHOLDS_PATH.read_text().replace("exclude: 10m", f"exclude: {good}", 1))
    assert load_thresholds(path)["LLMCostSpike"].extra["baseline_exclude"] == good


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text("version: 1\nslos:\n  - name: [unclosed\n")
    with pytest.raises(SpecError, match=r"slos.yaml:\d+: not valid YAML"):
        load_spec(path)


def test_no_threshold_literals_in_the_alert_code() -> None:
    """Comparisons in the alert tables take their right-hand side from thresholds.yaml: no
    `> 0.05`-style literal in any string of the modules (queries, texts), and the only decimal
    in them is the p95 quantile."""
    import ast

    from slo import alerting, llm_alerts, stack_alerts

    texts: list[str] = []
    for module in (alerting, llm_alerts, stack_alerts):
        tree = ast.parse(Path(module.__file__).read_text())
        bodies = [tree, *(f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef))]
        docstrings = {id(b.body[0].value) for b in bodies if isinstance(b.body[0], ast.Expr)}
        texts += [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ]
    promql = "\n".join(texts)
    assert "histogram_quantile" in promql and "up == 0" in promql  # the scan sees the queries
    # `up == 0` (TargetDown) is a target state, not a knob
    assert sorted(re.findall(r"(?:>|>=|<|<=|==)\s*[0-9.]+", promql)) == ["== 0"]
    assert re.findall(r"(?<![\w.\[])[0-9]+\.[0-9]+", promql) == ["0.95"]


@pytest.mark.parametrize("name", SLO_NAMES)
def test_budget_remaining_and_event_volume_read_the_slo_period(name: str) -> None:
    # The recorded period and the window the budget is computed over must agree (a mutation
    # audit found no test that held them together).
    rules = {r["record"]: r["expr"] for g in _slo_file(name)["groups"] for r in g["rules"]}
    seconds = int(re.fullmatch(r"vector\((\d+)\)", rules["slo:period:seconds"])[1])
    window = next(w for w in WINDOWS if RULE_SECONDS[w] == seconds)
    assert rules["slo:error_budget_remaining:ratio"].startswith(
        f"1 - slo:error_ratio:rate{window}{{"
    )
    assert rules[f"slo:events:increase{window}"].startswith(f"slo:total_events:rate{window}{{")
