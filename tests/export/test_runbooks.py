"""Exported runbooks are written for the exported service: only its alerts' runbooks, queries
scoped like its rules, no demo steps, no `rag-api`. No process is started here."""

from __future__ import annotations

import re
from pathlib import Path

import promql_parser
import pytest
import yaml

from export import runbooks
from genobs.contract import is_app_metric, is_recorded
from genobs.promql import metric_names, selectors
from harness import ROOT
from tests.configs import MY_LLM_APP, own_config
from tests.export.exported import alerts, export

SOURCE = ROOT / "docs" / "runbooks"
SPAN = re.compile(r"`([^`\n]+)`")
RATE_LIMITED = "rate_limited: 'rate_limited|.*RateLimitError.*|429|.*ThrottlingException.*'"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("runbooks")
    config = own_config(
        tmp / "my.yaml",
        *MY_LLM_APP,
        ("uid_prefix: ''", "uid_prefix: 'acme-'"),
        (RATE_LIMITED, "rate_limited: 'RateLimit.*|429'"),
    )
    return export(tmp / "dist", "--config", str(config))


def _queries(text: str) -> list[str]:
    """The PromQL expressions among a runbook's code spans: with a call or braces, or a bare
    recorded series (read as a query: on a shared Prometheus it needs the service too); a bare
    app metric name is prose."""
    out = []
    for span in SPAN.findall(text):
        try:
            promql_parser.parse(span)
        except ValueError:
            continue
        if any(c in span for c in "({") or is_recorded(span):
            out.append(span)
    return out


def test_only_the_exported_alerts_have_runbooks(own: Path) -> None:
    exported = {p.stem for p in (own / "runbooks").glob("*.md")}
    assert exported == set(alerts(own)), exported ^ set(alerts(own))
    assert "RAGAnswerQualityDrop" not in exported  # extras: false


def test_runbooks_speak_of_the_exported_service(own: Path) -> None:
    checked = 0
    for path in sorted((own / "runbooks").glob("*.md")):
        text = path.read_text()
        assert "rag-api" not in text, path.name
        assert "In the demo" not in text, path.name
        for demo_only in ("make generate", "make ps", "demo_app/", "TELEMETRY_ENABLED"):
            assert demo_only not in text, (path.name, demo_only)
        for query in _queries(text):
            for name, end, braces in selectors(query):
                inside = query[end:].split("}", 1)[0] if braces else ""
                if is_app_metric(name):
                    checked += 1
                    assert 'job="my-llm-app"' in inside, (path.name, query)
                if is_recorded(name):
                    checked += 1
                    assert 'service="my-llm-app"' in inside, (path.name, query)
        for numbers in re.findall(r"(?:^\d+\. .*\n)+", text, re.M):  # lists stay 1, 2, 3, …
            got = [int(n) for n in re.findall(r"^(\d+)\. ", numbers, re.M)]
            assert got == list(range(1, len(got) + 1)), path.name
        for stem in re.findall(r"prometheus/rules/([\w.-]+)\.yml", text):
            assert (own / "prometheus" / "rules" / f"{stem}.yml").is_file(), (path.name, stem)
    assert checked >= 10


def test_the_demo_runbooks_keep_their_demo_steps() -> None:
    """What the export drops is there in the repository's own runbooks, for the demo."""
    text = "".join(p.read_text() for p in SOURCE.glob("*.md"))
    assert text.count("In the demo") >= 5
    assert '{service_name="rag-api"}' in text


def _error_type_matchers(text: str) -> set[str]:
    return set(re.findall(r'error_type=~"[^"]*"', text))


def test_the_rate_limit_runbook_counts_what_its_alert_counts(own: Path) -> None:
    """The runbook's query must find the errors the alert fired on: the same error-type pattern,
    shipped and exported with another `error_types.rate_limited`."""
    name = "LLMProviderRateLimited"
    for rules, runbook in (
        (ROOT / "prometheus" / "rules", SOURCE / f"{name}.md"),
        (own / "prometheus" / "rules", own / "runbooks" / f"{name}.md"),
    ):
        alert = next(
            r["expr"]
            for path in rules.glob("*llm-alerts.yml")
            for g in yaml.safe_load(path.read_text())["groups"]
            for r in g["rules"]
            if r.get("alert") == name
        )
        assert _error_type_matchers(alert) == _error_type_matchers(runbook.read_text()) != set()
    assert 'error_type=~"RateLimit.*|429"' in (own / "runbooks" / f"{name}.md").read_text()


def test_runbook_queries_name_series_that_exist() -> None:
    """A classic histogram is stored as _bucket, _sum and _count: its bare name selects nothing."""
    metrics = (ROOT / "docs" / "telemetry.md").read_text().split("## Metrics", 1)[1]
    histograms = set(re.findall(r"^\| `([a-z_]+)` \| histogram", metrics, re.M))
    assert histograms
    named = {
        name
        for path in sorted(SOURCE.glob("*.md"))
        for query in _queries(path.read_text())
        for name in metric_names(query)
    }
    assert named and not named & histograms, named & histograms


def test_the_alert_table_rewrite_refuses_a_reworded_source() -> None:
    """Each sentence the export rewrites must still be in docs/alerts.md: a reworded generator
    would otherwise ship the demo's wording without a word."""
    text = (ROOT / "docs" / "alerts.md").read_text()
    assert runbooks.alert_table(text) != text
    for demo, _ in runbooks._ALERT_TABLE:
        with pytest.raises(RuntimeError, match="update _ALERT_TABLE"):
            runbooks.alert_table(text.replace(demo, demo.upper()))


def test_the_exported_alert_table_speaks_of_the_export(own: Path) -> None:
    """alerts.md beside the runbooks is read in the export: no demo receivers, no repository
    command to regenerate it, and every alertmanager/ file it names is in the export."""
    text = (own / "alerts.md").read_text()
    for demo_only in ("rag-api", "In the demo", "make generate", "make incident"):
        assert demo_only not in text, demo_only
    named = set(re.findall(r"alertmanager/[\w./-]+\.(?:yml|tmpl)", text))
    assert "alertmanager/alertmanager.yml" in named
    for path in named:
        assert (own / path).is_file(), path
