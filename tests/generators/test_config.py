"""genai-obs.yaml: bad input fails with file, line and key, exit 2, no stack trace, nothing
written; matchers are parsed the way Prometheus parses them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from genobs.config import CONFIG_PATH, DEFAULT_LLM_CHAT_OPERATION, SCHEMA_PATH, load_config
from genobs.promql import duration_problem, parse_matchers
from genobs.yamlspec import SpecError
from harness import ROOT

TEXT = CONFIG_PATH.read_text()


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in TEXT, old
    path = tmp_path / "genai-obs.yaml"
    path.write_text(TEXT.replace(old, new, 1))
    return path


def _line(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


OPERATION = next(
    x.strip() for x in TEXT.splitlines() if x.strip().startswith("llm_chat_operation:")
)
CASES = {
    # name: (old, new, key in the message, text on the reported line, reason)
    "unknown key": (
        "  uid_prefix: ''",
        "  uid_prefix: ''\n  uid_prefx: x",
        "field 'dashboards.uid_prefx'",
        "uid_prefx",
        "unknown field",
    ),
    "matcher without quotes": (
        """service: 'job="rag-api"'""",
        "service: 'job=rag-api'",
        "field 'selectors.service'",
        "service: 'job=rag-api'",
        "not valid PromQL label matchers",
    ),
    "matcher with braces": (
        """service: 'job="rag-api"'""",
        """service: '{job="rag-api"}'""",
        "field 'selectors.service'",
        "service: '{job",
        "not valid PromQL label matchers",
    ),
    "matcher smuggling a second selector": (
        """service: 'job="rag-api"'""",
        """service: 'job="a"} or up{job="b"'""",
        "field 'selectors.service'",
        """service: 'job="a"}""",
        "must be a comma-separated list of label matchers",
    ),
    "invalid regex": (
        """http_chat_route: 'http_route=~"/v1/chat.*"'""",
        """http_chat_route: 'http_route=~"/v1/(chat"'""",
        "field 'selectors.http_chat_route'",
        "/v1/(chat",
        "illegal regex",
    ),
    "invalid error regex": (
        "rate_limited: 'rate_limited|.*RateLimitError.*|429|.*ThrottlingException.*'",
        "rate_limited: 'rate_limited|(429'",
        "field 'error_types.rate_limited'",
        "rate_limited|(429",
        "illegal regex",
    ),
    "empty service selector": (
        """service: 'job="rag-api"'""",
        "service: ''",
        "field 'selectors.service'",
        "service: ''",
        "must select something",
    ),
    "chat-operation selector without the operation label": (
        OPERATION,
        """llm_chat_operation: 'gen_ai_system="openai"'""",
        "field 'selectors.llm_chat_operation'",
        "llm_chat_operation: 'gen_ai_system",
        "needs a gen_ai_operation_name matcher",
    ),
    "blank chat-operation selector": (
        OPERATION,
        "llm_chat_operation: ' '",
        "field 'selectors.llm_chat_operation'",
        "llm_chat_operation: ' '",
        "needs a gen_ai_operation_name matcher",
    ),
    "invalid chat-operation regex": (
        OPERATION,
        """llm_chat_operation: 'gen_ai_operation_name=~"chat|(gen"'""",
        "field 'selectors.llm_chat_operation'",
        "chat|(gen",
        "illegal regex",
    ),
    "metrics interval that is no duration": (
        "metrics_interval: ''",
        "metrics_interval: '1 minute'",
        "field 'dashboards.metrics_interval'",
        "metrics_interval: '1 minute'",
        "'1 minute' is not a Prometheus duration",
    ),
    "service name Prometheus would template in alert labels": (
        "service_name: rag-api",
        "service_name: 'rag-{{ $value }}'",
        "field 'service_name'",
        "service_name: 'rag-{{",
        "is not a service name: 1 to 63 letters",
    ),
    "service name too long for object names": (
        "service_name: rag-api",
        "service_name: " + "a" * 64,
        "field 'service_name'",
        "service_name: aaaa",
        "is not a service name",
    ),
    "unknown default profile": (
        "default_profile: demo",
        "default_profile: prod",
        "field 'default_profile'",
        "default_profile: prod",
        "unknown profile 'prod' (have: demo, production)",
    ),
    "wrong type": (
        "extras: true",
        "extras: yes please",
        "field 'extras'",
        "extras: yes please",
        "is not of type 'boolean'",
    ),
    "bad duration": (
        "      SLOFastBurn: 2m\n      SLOSlowBurn: 15m\n      LLMErrorRatioHigh: 2m",
        "      SLOFastBurn: 2 minutes\n      SLOSlowBurn: 15m\n      LLMErrorRatioHigh: 2m",
        "field 'profiles.demo.for.SLOFastBurn'",
        "SLOFastBurn: 2 minutes",
        "'2 minutes' is not a Prometheus duration",
    ),
    "duration units out of order (promtool rejects 5s1m)": (
        "      SLOFastBurn: 2m\n      SLOSlowBurn: 15m\n      LLMErrorRatioHigh: 2m",
        "      SLOFastBurn: 5s1m\n      SLOSlowBurn: 15m\n      LLMErrorRatioHigh: 2m",
        "field 'profiles.demo.for.SLOFastBurn'",
        "SLOFastBurn: 5s1m",
        "'5s1m' is not a Prometheus duration (units in order y w d h m s ms",
    ),
    "duration out of Prometheus' range": (
        "      Watchdog: 0s\n  production:",
        "      Watchdog: 999999y\n  production:",
        "field 'profiles.demo.for.Watchdog'",
        "Watchdog: 999999y",
        "'999999y' is out of range",
    ),
    "skip an SLO that does not exist": (
        "skip_slos: []",
        "skip_slos: [llm-ttft, llm-tfft]",
        "field 'skip_slos[1]'",
        "skip_slos: [llm-ttft, llm-tfft]",
        "no SLO 'llm-tfft'",
    ),
    "alert without for": (
        "      Watchdog: 0s\n  production:",
        "  production:",
        "field 'profiles.demo.for'",
        "    for:",
        "no `for:` for Watchdog",
    ),
    # promql-parser (Rust) accepts these; Prometheus (Go, RE2 syntax) refuses the rule file.
    "regex with a possessive repetition": (
        """http_chat_route: 'http_route=~"/v1/chat.*"'""",
        """http_chat_route: 'http_route=~"/v1/chat.*+"'""",
        "field 'selectors.http_chat_route'",
        "/v1/chat.*+",
        "is not a regex Prometheus accepts (RE2 syntax: bad repetition operator: *+)",
    ),
    "regex with the x flag": (
        OPERATION,
        """llm_chat_operation: 'gen_ai_operation_name=~"(?x)chat"'""",
        "field 'selectors.llm_chat_operation'",
        "(?x)chat",
        "RE2 syntax: invalid perl operator: (?x",
    ),
    "error regex with a count over 1000": (
        "rate_limited: 'rate_limited|.*RateLimitError.*|429|.*ThrottlingException.*'",
        "rate_limited: 'rate_limited|42{1001}'",
        "field 'error_types.rate_limited'",
        "rate_limited|42{1001}",
        "RE2 syntax: invalid repetition size: {1001}",
    ),
    "error regex with a repeated repetition": (
        "rate_limited: 'rate_limited|.*RateLimitError.*|429|.*ThrottlingException.*'",
        "rate_limited: 'rate_limited|.**RateLimitError'",
        "field 'error_types.rate_limited'",
        "rate_limited|.**",
        "RE2 syntax: bad repetition operator: **",
    ),
    "quoted UTF-8 label name (Prometheus 3 only, rendered unquoted)": (
        """service: 'job="rag-api"'""",
        """service: '"service.name"="rag-api"'""",
        "field 'selectors.service'",
        "service: '\"service.name",
        "label name 'service.name': label names must be [a-zA-Z_][a-zA-Z0-9_]*; "
        "Prometheus 2 cannot read quoted names",
    ),
    "runbook URL with a Go template action": (
        "/docs/runbooks/{alert}.md'",
        "/docs/runbooks/{alert}.md?x={{ .Bad'",
        "field 'links.runbook_url'",
        "{{ .Bad",
        "must not contain {{ or }}: alert annotations are Go templates",
    ),
    "docs URL with a template close": (
        "/blob/main/{path}'",
        "/blob/main/{path}}}'",
        "field 'links.docs_url'",
        "{path}}}",
        "must not contain {{ or }}",
    ),
    "runbook URL without {alert} (reason, not the schema's regex)": (
        "/docs/runbooks/{alert}.md'",
        "/docs/runbooks/alert.md'",
        "field 'links.runbook_url'",
        "runbooks/alert.md",
        "is not an http(s) URL with {alert} in it",
    ),
    "uid prefix with a slash (reason, not the schema's regex)": (
        "  uid_prefix: ''",
        "  uid_prefix: 'acme/x '",
        "field 'dashboards.uid_prefix'",
        "acme/x",
        "'acme/x ' is not a uid prefix: up to 20 letters, digits, _ or -",
    ),
    "folder uid with a slash (reason, not the schema's regex)": (
        "folder_uid: genai-observability",
        "folder_uid: genai/observability",
        "field 'dashboards.folder_uid'",
        "folder_uid: genai/observability",
        "'genai/observability' is not a Grafana uid: 1 to 40 letters, digits, _ or -",
    ),
    "for of an alert that does not exist": (
        "      Watchdog: 0s\n  production:",
        "      Watchdog: 0s\n      WatchDog: 0s\n  production:",
        "field 'profiles.demo.for.WatchDog'",
        "WatchDog: 0s",
        "no such alert",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_fails_with_file_line_and_key_and_writes_nothing(
    case: str, tmp_path: Path
) -> None:
    old, new, key, on_line, reason = CASES[case]
    path = _variant(tmp_path, old, new)
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "generators", "--config", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    line = _line(path, on_line)
    assert f"{path}:{line}: {key}: " in res.stderr, res.stderr
    assert reason in res.stderr, res.stderr
    assert "does not match '" not in res.stderr, "a reason, not the schema's regex"
    assert not out.exists(), "nothing may be written"


@pytest.mark.parametrize("name", ["staging", ""])  # '' rendered the default profile silently
def test_unknown_profile_on_the_command_line(tmp_path: Path, name: str) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "generators", "--profile", name, "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    line = _line(CONFIG_PATH, "profiles:")
    assert f"genai-obs.yaml:{line}: field 'profiles': unknown profile {name!r}" in res.stderr
    assert not (tmp_path / "o").exists()


def test_a_config_without_the_chat_operation_selector_gets_the_default(tmp_path: Path) -> None:
    # Configs written before selectors.llm_chat_operation existed keep working.
    line = next(x for x in TEXT.splitlines(keepends=True) if "llm_chat_operation:" in x)
    cfg = load_config(_variant(tmp_path, line, ""))
    assert cfg.llm_chat_operation == parse_matchers(DEFAULT_LLM_CHAT_OPERATION)
    assert cfg.llm_chat_operation == load_config().llm_chat_operation


def test_profiles_choose_the_for_values() -> None:
    demo, prod = load_config(), load_config(profile="production")
    assert demo.profile == "demo" and prod.profile == "production"
    assert demo.for_of("LLMErrorRatioHigh") == "2m" and prod.for_of("LLMErrorRatioHigh") == "5m"
    assert set(demo.for_) == set(prod.for_)


def test_loading_reads_nothing_at_import() -> None:
    code = (
        "import pathlib; opened = []; real = pathlib.Path.read_text\n"
        "def spy(self, *a, **k):\n"
        "    opened.append(self)\n"
        "    return real(self, *a, **k)\n"
        "pathlib.Path.read_text = spy\n"
        "import generators, genobs.config, genobs.context, slo, slo.rules\n"
        "import grafana.dashgen.render\n"
        f"ours = [p for p in opened if str(p).startswith({str(ROOT)!r})\n"
        "        and '.venv' not in str(p)]\n"
        "assert not ours, ours\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr


def test_bad_config_error_is_a_spec_error(tmp_path: Path) -> None:
    path = _variant(tmp_path, "version: 1", "version: 2")
    with pytest.raises(SpecError, match=r"genai-obs.yaml:\d+: field 'version'"):
        load_config(path)


_VALID = ("0", "0s", "1h30m", "1y2w3d4h5m6s7ms", "90s", "1ms", "1m1ms", "300000y")
_INVALID = ("", "00s0", "30m1h", "1h1h", "1.5h", "1h ", "h", "ms", "1x", "-1m", "1 m")


@pytest.mark.parametrize("text", _VALID + _INVALID)
def test_the_schema_and_the_loader_agree_on_durations(text: str) -> None:
    """genai-obs.schema.json (for editors) writes the duration grammar as its own pattern; it
    must accept exactly what the loader's check (Prometheus' grammar) accepts, range aside."""
    schema = json.loads(SCHEMA_PATH.read_text())
    pattern = _find_duration_pattern(schema)
    by_schema = re.search(pattern, text) is not None  # JSON Schema patterns are unanchored
    problem = duration_problem(text)
    grammatical = problem is None or "out of range" in problem
    assert grammatical == (text in _VALID), (text, problem)
    assert by_schema == grammatical, (text, pattern)


def _find_duration_pattern(node: object) -> str:
    """The one `pattern` of the schema described as a Prometheus duration."""
    found: list[str] = []

    def walk(n: object) -> None:
        if isinstance(n, dict):
            if "Prometheus duration" in str(n.get("description", "")) and "pattern" in n:
                found.append(n["pattern"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "service_name: !!int abc",
            ":10: not usable YAML in field 'service_name': not a valid int",
        ),
        ("service_name: !foo x", ":10: not usable YAML in field 'service_name': could not"),
        ("service_name: " + "[" * 3000 + "]" * 3000, ": not usable YAML: nested too deeply"),
    ],
    ids=["bad-int", "unknown-tag", "deep"],
)
def test_yaml_the_loader_cannot_build_exits_2(tmp_path: Path, new: str, message: str) -> None:
    """Each was a traceback (ValueError, ConstructorError, RecursionError) from the generators."""
    assert _line(CONFIG_PATH, "service_name: rag-api") == 10
    path = _variant(tmp_path, "service_name: rag-api", new)
    res = subprocess.run(
        [sys.executable, "-m", "generators", "--config", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"error: {path}{message}" in res.stderr, res.stderr
    assert not (tmp_path / "o").exists()
