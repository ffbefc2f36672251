"""The shipped rule files: valid for promtool, unit-tested, every alert tested both ways, every
metric from the telemetry contract, every alert labelled and with a runbook that exists."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from genai_telemetry import semconv
from harness import ROOT, require_binary
from slo.rules import ALERT_NAMES, TARGET_INFO
from slo.spec import CONTRACT_BUCKETS
from slo.stack_alerts import STACK_METRICS
from slo.thresholds import load_thresholds

RULES_DIR = ROOT / "prometheus" / "rules"
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
TEST_DIR = Path(__file__).parent / "rules"
TEST_FILES = sorted(TEST_DIR.glob("*.test.yml"))
# Dashboards that exist (tests/grafana holds their set to the generator).
DASHBOARD_UIDS = {
    json.loads(p.read_text())["uid"] for p in (ROOT / "grafana" / "dashboards").glob("*.json")
}
# An always-firing heartbeat has no "not firing" state to test.
ALWAYS_FIRING = {"Watchdog"}
# Alerts whose value carries no information (up == 0, absent() == 1, vector(1)): their
# descriptions name what was measured through labels (instance, metric) instead.
VALUE_FREE = {"Watchdog", "TargetDown", "SLIMetricsAbsent"}
# The generic alerts of slo-alerts.yml (keyed on the recorded slo:* series of every SLO).
SLO_ALERTS = set(ALERT_NAMES)
GENERATED_DIR = TEST_DIR / "generated"


def _groups(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())["groups"]


def _rules() -> list[dict[str, Any]]:
    return [r for f in RULE_FILES for g in _groups(f) for r in g["rules"]]


def _alerts() -> list[dict[str, Any]]:
    return [r for r in _rules() if "alert" in r]


def test_rule_files_exist() -> None:
    names = {p.name for p in RULE_FILES}
    assert {"llm-alerts.yml", "slo-alerts.yml"} <= names
    assert len([n for n in names if n.startswith("slo-")]) >= 6


def test_promtool_check_rules() -> None:
    promtool = require_binary("promtool")
    res = subprocess.run(
        [promtool, "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_unit_tests(test_file: Path) -> None:
    promtool = require_binary("promtool")
    res = subprocess.run(
        [promtool, "test", "rules", test_file.name],
        capture_output=True,
        text=True,
        cwd=TEST_DIR,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def _test_docs() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, yaml.safe_load(p.read_text())) for p in TEST_FILES]


def test_every_alert_has_a_firing_and_a_not_firing_case() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for _, doc in _test_docs():
        for case in doc["tests"]:
            for t in case.get("alert_rule_test", []):
                (firing if t.get("exp_alerts") else quiet).add(t["alertname"])
    alerts = {a["alert"] for a in _alerts()}
    assert alerts - firing == set(), "alerts without a firing test case"
    assert alerts - ALWAYS_FIRING - quiet == set(), "alerts without a not-firing test case"
    assert (firing | quiet) - alerts == set(), "test cases for alerts that do not exist"


def test_every_test_file_orders_all_its_groups() -> None:
    docs = list(_test_docs())
    assert docs, "no promtool test files found"
    for path, doc in docs:
        groups = [
            g["name"] for f in doc["rule_files"] for g in _groups((path.parent / f).resolve())
        ]
        assert doc.get("group_eval_order") == groups, f"{path.name}: group_eval_order"
        for f in doc["rule_files"]:
            # shipped rules, or the objective table the SLO generator renders for the tests
            where = (path.parent / f).resolve().parent
            assert where in (RULES_DIR, GENERATED_DIR), "tests load shipped rules"


# --- metric names -----------------------------------------------------------------------------
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACES = re.compile(r"\{[^}]*\}")
_BRACKETS = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan", "by", "on", "without"}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (enough PromQL for our rules; tested below)."""
    text = "\n".join(line.split("#", 1)[0] for line in expr.splitlines())
    text = _STRINGS.sub('""', text)
    text = _BRACES.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    names = {m for m in _IDENT.findall(text) if m.lower() not in _KEYWORDS}
    return {n for n in names if not re.fullmatch(r"\d+[smhdwy]?", n)}


def test_metric_name_extraction() -> None:
    expr = (
        'sum by (le) (rate(a_bucket{x="y{z}"}[5m])) / on (s) group_left () b:c:rate5m offset 1w\n'
        '# comment_metric\nand histogram_quantile(0.95, d) > bool 2 unless absent(e{job="j"})'
    )
    assert metric_names(expr) == {"a_bucket", "b:c:rate5m", "d", "e"}


def _contract_names() -> set[str]:
    names: set[str] = set()
    for metric in semconv.METRIC_LABELS:
        if metric in CONTRACT_BUCKETS:
            names |= {f"{metric}_bucket", f"{metric}_count", f"{metric}_sum"}
        else:
            names.add(metric)
    return names


def test_every_metric_in_a_rule_is_in_the_contract() -> None:
    assert RULE_FILES and _alerts(), f"no rules under {RULES_DIR}"
    recorded = {r["record"] for r in _rules() if "record" in r}
    allowed = _contract_names() | STACK_METRICS | recorded | {TARGET_INFO}
    for rule in _rules():
        unknown = metric_names(rule["expr"]) - allowed
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: {sorted(unknown)}"


def test_le_values_are_rendered_bucket_bounds() -> None:
    """Every `le` matcher selects exactly one bucket bound, in every form exporters write it:
    prometheus-client and Prometheus 3 write "5.0", the OTel exporter "5" (2.x keeps it)."""
    bounds = {b for buckets in CONTRACT_BUCKETS.values() for b in buckets}
    seen = 0
    for rule in _rules():
        name = rule.get("alert") or rule.get("record")
        for op, value in re.findall(r'le(=~?)"((?:[^"\\]|\\.)*)"', rule["expr"]):
            value = value.replace("\\\\", "\\")
            matched = {b for b in bounds if _le_matches(op, value, b)}
            assert len(matched) == 1, f"{name}: le{op}{value!r} matches {sorted(matched)}"
            (bound,) = matched
            forms = {semconv.le(bound)} | ({str(int(bound))} if bound.is_integer() else set())
            assert all(_le_matches(op, value, f) for f in forms), f"{name}: misses a form"
            seen += 1
    assert seen, "no le= matcher in any rule: the latency/TTFT thresholds are not where expected"


def _le_matches(op: str, value: str, bound: float | str) -> bool:
    text = bound if isinstance(bound, str) else semconv.le(bound)
    return re.fullmatch(value, text) is not None if op == "=~" else value == text


# --- labels, annotations, runbooks ------------------------------------------------------------
@pytest.mark.parametrize("alert", _alerts(), ids=lambda a: a["alert"])
def test_alert_labels_and_annotations(alert: dict[str, Any]) -> None:
    name = alert["alert"]
    labels = alert.get("labels", {})
    ann = alert.get("annotations", {})
    assert labels.get("severity") in {"page", "ticket", "info"}
    if name not in SLO_ALERTS:
        assert labels.get("service"), "service label"
    else:  # SLO alerts take service and slo from the recorded series
        assert "slo:" in alert["expr"] and "service" not in labels
        assert ann["slo_runbook"].startswith("{{ with printf")
    assert {"summary", "description", "runbook_url", "dashboard"} <= set(ann)
    assert ("$value" in ann["description"]) != (name in VALUE_FREE)
    assert ann["runbook_url"].endswith(f"/docs/runbooks/{name}.md")
    runbook = ROOT / "docs" / "runbooks" / f"{name}.md"
    assert runbook.is_file(), f"missing {runbook.relative_to(ROOT)}"
    uid = re.match(r"/d/([a-z-]+)", ann["dashboard"])
    assert uid and uid.group(1) in DASHBOARD_UIDS
    if semconv.L_MODEL in alert["expr"] and "by (" in alert["expr"]:
        assert f"by ({semconv.L_PROVIDER}, {semconv.L_MODEL}" in alert["expr"] or (
            f"by ({semconv.L_MODEL})" in alert["expr"]
        )


def test_alert_names_match_the_convention() -> None:
    expected = {
        "SLOFastBurn": "page",
        "SLOSlowBurn": "ticket",
        "LLMErrorRatioHigh": "page",
        "Watchdog": "info",
    }
    severities = {a["alert"]: a["labels"]["severity"] for a in _alerts()}
    # The shipped alerts are exactly the generator's: thresholds.yaml's plus the SLO alerts.
    assert set(severities) == set(load_thresholds()) | SLO_ALERTS
    assert {n: severities[n] for n in expected} == expected
    others = {n: s for n, s in severities.items() if n not in expected}
    assert others == dict.fromkeys(others, "ticket")
    assert len(others) >= 15


def test_rules_stay_in_what_prometheus_2_42_accepts() -> None:
    assert RULE_FILES, "no rule files found"
    for path in RULE_FILES:
        for group in _groups(path):
            assert "labels" not in group and "query_offset" not in group, path.name


def test_alert_dashboard_links_set_only_variables_the_dashboard_has() -> None:
    """Grafana ignores a `var-x` its dashboard does not define: the link would filter nothing."""
    boards = [json.loads(p.read_text()) for p in (ROOT / "grafana" / "dashboards").glob("*.json")]
    variables = {b["uid"]: {v["name"] for v in b["templating"]["list"]} for b in boards}
    links = [
        r["annotations"]["dashboard"]
        for path in sorted(RULES_DIR.glob("*.yml"))
        for g in _groups(path)
        for r in g["rules"]
        if "dashboard" in r.get("annotations", {})
    ]
    assert links
    for link in links:
        uid = re.match(r"/d/([^?]+)", link)
        assert uid and uid.group(1) in variables, link
        for name in re.findall(r"var-([\w-]+)=", link):
            assert name in variables[uid.group(1)], link
