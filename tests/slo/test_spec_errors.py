"""slo/slos.yaml and slo/thresholds.yaml: what passes the loaders is what Prometheus accepts,
and bad input exits 2 with `file:line: [slo 'x': ]field 'a.b': reason`, no stack trace,
nothing written (`python -m generators`, run in this process on the variant files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import slo
from generators.__main__ import main
from slo.alerting import AlertRow
from slo.llm_alerts import LLM_ALERTS
from slo.spec import SPEC_PATH
from slo.stack_alerts import STACK_ALERTS
from slo.thresholds import THRESHOLDS_PATH

CHAT_TOTAL = (
    "sum(rate(http_server_request_duration_seconds_count{ {{http_chat_route}} }[{{window}}]))"
)
FAITHFUL = 'selector: gen_ai_evaluation_name="faithfulness"'
SPEC_CASES = {
    # name: (old, new, text on the reported line, slo and field, reason)
    "selector smuggling PromQL into the SLI (exit 0 before, a silently wrong SLI)": (
        FAITHFUL,
        """selector: 'x="1"}[5m])) or on() vector(0) or sum(rate(y{z="1"'""",
        "or on() vector(0)",
        "slo 'rag-answer-quality': field 'sli.histogram.selector'",
        "not valid PromQL label matchers",
    ),
    "selector with an invalid regex": (
        FAITHFUL,
        """selector: 'x=~"("'""",
        """selector: 'x=~"("'""",
        "slo 'rag-answer-quality': field 'sli.histogram.selector'",
        "illegal regex",
    ),
    "selector matching on __name__": (
        FAITHFUL,
        """selector: '__name__="x"'""",
        "__name__",
        "slo 'rag-answer-quality': field 'sli.histogram.selector'",
        "must not match on __name__",
    ),
    "selector that is no matcher": (
        FAITHFUL,
        "selector: garbage",
        "selector: garbage",
        "slo 'rag-answer-quality': field 'sli.histogram.selector'",
        "not valid PromQL label matchers",
    ),
    "selector regex Go refuses": (
        FAITHFUL,
        """selector: 'gen_ai_evaluation_name=~"faith.*+"'""",
        "faith.*+",
        "slo 'rag-answer-quality': field 'sli.histogram.selector'",
        "is not a regex Prometheus accepts (RE2 syntax: bad repetition operator: *+)",
    ),
    "selector with a quoted label name beside a placeholder": (
        'selector: "{{llm_chat_operation}}"',
        """selector: '{{llm_chat_operation}}, "service.name"="x"'""",
        "service.name",
        "slo 'llm-ttft': field 'sli.histogram.selector'",
        "label names must be [a-zA-Z_][a-zA-Z0-9_]*; Prometheus 2 cannot read quoted names",
    ),
    "selector on le": (
        FAITHFUL,
        """selector: 'le="0.7"'""",
        "le=",
        "slo 'rag-answer-quality': field 'sli.histogram.selector'",
        "must not match on 'le'",
    ),
    "events query that is a scalar": (
        CHAT_TOTAL,
        f"scalar({CHAT_TOTAL})",
        "total_query: >-",
        "slo 'chat-availability': field 'sli.events.total_query'",
        "must be an instant vector (e.g. sum(rate(...))), not a scalar",
    ),
    "events query that is a subquery": (
        CHAT_TOTAL,
        CHAT_TOTAL[4:-1] + "[5m:]",
        "total_query: >-",
        "slo 'chat-availability': field 'sli.events.total_query'",
        "must be an instant vector (e.g. sum(rate(...))), not a matrix",
    ),
    "events query with a regex Go refuses": (
        'http_response_status_code=~"5.."',
        'http_response_status_code=~"5**"',
        "error_query: >-",
        "slo 'chat-availability': field 'sli.events.error_query'",
        "'5**' is not a regex Prometheus accepts (RE2 syntax: bad repetition operator: **)",
    ),
    "objective NaN": (
        "objective: 0.99\n",
        "objective: .nan\n",
        "objective: .nan",
        "slo 'llm-chat-success': field 'objective'",
        "not a finite number",
    ),
    "objective beyond a float": (
        "objective: 0.99\n",
        "objective: 1.0e+400\n",
        "objective: 1.0e+400",
        "slo 'llm-chat-success': field 'objective'",
        "not a finite number",
    ),
    "SLO name (reason, not the schema's regex)": (
        "name: llm-ttft",
        "name: LLM_ttft",
        "name: LLM_ttft",
        "slo 'LLM_ttft': field 'name'",
        "'LLM_ttft' is not an SLO name: 1 to 63 lower-case letters",
    ),
}
THRESHOLD_CASES = {
    "threshold NaN": (
        "threshold: 0.05 ",
        "threshold: .nan ",
        "threshold: .nan",
        "field 'alerts.LLMErrorRatioHigh.threshold'",
        "not a finite number",
    ),
    "threshold infinite": (
        "threshold: 500 ",
        "threshold: .inf ",
        "threshold: .inf",
        "field 'alerts.LLMDailySpendProjectedOverBudget.threshold'",
        "not a finite number",
    ),
    "floor beyond a float": (
        "floor_usd_per_hour: 0.5 ",
        "floor_usd_per_hour: 1.0e+400 ",
        "floor_usd_per_hour: 1.0e+400",
        "field 'alerts.LLMCostSpike.floor_usd_per_hour'",
        "not a finite number",
    ),
    "a key the alert does not read": (
        "  TargetDown:\n    unit: none\n",
        "  TargetDown:\n    unit: none\n    threshold: 77\n",
        "threshold: 77",
        "field 'alerts.TargetDown.threshold'",
        "not read by TargetDown (allowed: note, unit)",
    ),
}


def _run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **files
) -> tuple[int, str, Path]:
    """`python -m generators` with slo.generate_all reading the given spec/thresholds files."""
    spec, thresholds = files.get("spec", SPEC_PATH), files.get("thresholds", THRESHOLDS_PATH)
    monkeypatch.setattr(slo.generate_all, "__defaults__", (spec, thresholds))
    out = tmp_path / "out"
    code = main(["--out", str(out)])
    return code, capsys.readouterr().err, out


def _variant(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text, old
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1))
    return path


def _line(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _check(code: int, err: str, out: Path, path: Path, on_line: str, key: str, reason: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert f"{path}:{_line(path, on_line)}: {key}: " in err, err
    assert reason in err, err
    assert "does not match '" not in err, "a reason, not the schema's regex"
    assert not out.exists(), "nothing may be written"


# (which file, its shipped path, case name) for every bad-input case of both spec files
CASES = [
    *(("spec", SPEC_PATH, c) for c in sorted(SPEC_CASES)),
    *(("thresholds", THRESHOLDS_PATH, c) for c in sorted(THRESHOLD_CASES)),
]


@pytest.mark.parametrize(("kind", "source", "case"), CASES, ids=[f"{k}-{c}" for k, _, c in CASES])
def test_bad_spec_file(
    kind: str,
    source: Path,
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new, on_line, key, reason = (SPEC_CASES if kind == "spec" else THRESHOLD_CASES)[case]
    path = _variant(source, tmp_path, old, new)
    _check(*_run(tmp_path, monkeypatch, capsys, **{kind: path}), path, on_line, key, reason)


ROWS: tuple[AlertRow, ...] = (*LLM_ALERTS, *STACK_ALERTS)
NEEDED = [(row.name, key) for row in ROWS for key in row.needs]


@pytest.mark.parametrize(("alert", "key"), NEEDED, ids=[f"{a}.{k}" for a, k in NEEDED])
def test_every_key_an_alert_reads_is_required(
    alert: str,
    key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Deleting it was a KeyError/TypeError traceback (exit 1); the row declares what it reads
    (AlertRow.needs), and the shipped file gives exactly that (the generator runs on it)."""
    text = THRESHOLDS_PATH.read_text()
    block = re.search(rf"^  {alert}:\n(?:    .*\n)*", text, re.M)
    assert block, alert
    lines = [x for x in block[0].splitlines(keepends=True) if not x.startswith(f"    {key}:")]
    path = tmp_path / "thresholds.yaml"
    path.write_text(text.replace(block[0], "".join(lines), 1))
    code, err, out = _run(tmp_path, monkeypatch, capsys, thresholds=path)
    reason = f"{key!r} is a required property of {alert}"
    _check(code, err, out, path, f"  {alert}:", f"field 'alerts.{alert}'", reason)
