"""Load and validate genai-obs.yaml, the one configuration of the generated rules and dashboards.

Every problem is reported as `file:line: field 'a.b': reason` (SpecError, like slo/slos.yaml).
Structure is checked with genai-obs.schema.json; label matchers are parsed with a port of
Prometheus' own PromQL parser (promql-parser), so what passes here is what Prometheus accepts.
Nothing is read at import time: load_config() does the I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from genai_telemetry import semconv as sc
from genobs.promql import (
    Matcher,
    duration_problem,
    parse_matchers,
    quote,
    render_matchers,
)
from genobs.yamlspec import (
    Path_,
    Reporter,
    SpecError,
    load_yaml_with_lines,
    schema_errors,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = ROOT / "genai-obs.yaml"
SCHEMA_PATH = Path(__file__).resolve().parent / "genai-obs.schema.json"
# selectors.llm_chat_operation when a config predates it: the well-known gen_ai.operation.name
# values of a text-generating model call (OpenAI/Anthropic chat, Gemini, completions APIs).
DEFAULT_LLM_CHAT_OPERATION = 'gen_ai_operation_name=~"chat|generate_content|text_completion"'


@dataclass(frozen=True)
class Config:
    """genai-obs.yaml with one profile applied."""

    path: Path
    service_name: str
    service: tuple[Matcher, ...]
    http_chat_route: tuple[Matcher, ...]
    http_unary_chat_route: tuple[Matcher, ...]
    llm_chat_operation: tuple[Matcher, ...]
    rate_limited: str
    extras: bool
    runbook_url: str
    docs_url: str
    uid_prefix: str
    tags: tuple[str, ...]
    folder: str
    folder_uid: str
    profile: str
    for_: dict[str, str]
    metrics_interval: str = ""
    skip_slos: tuple[str, ...] = ()
    stack_alerts: bool = True
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    _reporter: Reporter | None = field(default=None, compare=False, repr=False)

    @property
    def service_selector(self) -> str:
        """The service matchers as PromQL text without braces (`job="rag-api"`)."""
        return render_matchers(self.service)

    def uid(self, base: str) -> str:
        return self.uid_prefix + base

    def title(self, base: str) -> str:
        """A dashboard's title: with the service's name under a uid prefix (one set of
        dashboards per service in one Grafana), so that a folder's list tells them apart."""
        return f"{base} · {self.service_name}" if self.uid_prefix else base

    def for_of(self, alert: str) -> str:
        return self.for_[alert]

    def error(self, path: Path_, reason: str) -> SpecError:
        if self._reporter is None:
            return SpecError(f"{self.path}: field '{'.'.join(map(str, path))}': {reason}")
        return self._reporter.error(path, reason)

    def check_slos(self, names: set[str]) -> None:
        """Every SLO named in skip_slos must exist in slo/slos.yaml."""
        unknown = [(i, n) for i, n in enumerate(self.skip_slos) if n not in names]
        if unknown:
            known = ", ".join(sorted(names))
            raise SpecError(
                "\n".join(
                    str(self.error(("skip_slos", i), f"no SLO {n!r} (have: {known})"))
                    for i, n in unknown
                )
            )

    def check_alerts(self, names: set[str]) -> None:
        """The profile must give a `for:` to exactly the alerts the rules define."""
        at: Path_ = ("profiles", self.profile, "for")
        problems = []
        missing = sorted(names - set(self.for_))
        unknown = sorted(set(self.for_) - names)
        if missing:
            problems.append(str(self.error(at, f"no `for:` for {', '.join(missing)}")))
        for name in unknown:
            problems.append(str(self.error((*at, name), "no such alert")))
        if problems:
            raise SpecError("\n".join(problems))


def _link_problems(reporter: Reporter, links: dict[str, str]) -> list[str]:
    """The links go into every alert's annotations, which Prometheus expands as Go templates."""
    why = "must not contain {{ or }}: alert annotations are Go templates, which would break"
    return [
        str(reporter.error(("links", key), why))
        for key, url in links.items()
        if "{{" in url or "}}" in url
    ]


def load_config(path: Path | None = None, profile: str | None = None) -> Config:
    """Read and validate `path` (default genai-obs.yaml) with `profile` (default: its own)."""
    path = path or CONFIG_PATH
    data, lines = load_yaml_with_lines(path)
    reporter = Reporter(path, data, lines, "profiles")
    schema_errors(reporter, json.loads(SCHEMA_PATH.read_text()))
    problems: list[str] = []
    parsed: dict[str, tuple[Matcher, ...]] = {}
    selectors = {"llm_chat_operation": DEFAULT_LLM_CHAT_OPERATION, **data["selectors"]}
    for key, text in selectors.items():
        try:
            parsed[key] = parse_matchers(text)
        except ValueError as exc:
            problems.append(str(reporter.error(("selectors", key), str(exc))))
    regex = data["error_types"]["rate_limited"]
    try:
        parse_matchers(f"error_type=~{quote(regex)}")
    except ValueError as exc:
        problems.append(str(reporter.error(("error_types", "rate_limited"), str(exc))))
    if not parsed.get("service") and "service" in parsed:
        problems.append(
            str(reporter.error(("selectors", "service"), 'must select something (e.g. job="x")'))
        )
    ops = parsed.get("llm_chat_operation")
    if ops is not None and not any(m.name == sc.L_OPERATION for m in ops):
        why = f"needs a {sc.L_OPERATION} matcher (the trace panels read it)"
        problems.append(str(reporter.error(("selectors", "llm_chat_operation"), why)))
    problems += _link_problems(reporter, data["links"])
    metrics_interval = data["dashboards"].get("metrics_interval", "")
    if metrics_interval and (reason := duration_problem(metrics_interval)):
        problems.append(str(reporter.error(("dashboards", "metrics_interval"), reason)))
    for name, prof in data["profiles"].items():
        for alert, value in prof["for"].items():
            if reason := duration_problem(value):
                problems.append(str(reporter.error(("profiles", name, "for", alert), reason)))
    chosen = data["default_profile"] if profile is None else profile  # '' names no profile
    if chosen not in data["profiles"]:
        where: Path_ = ("profiles",) if profile is not None else ("default_profile",)
        known = ", ".join(sorted(data["profiles"]))
        problems.append(str(reporter.error(where, f"unknown profile {chosen!r} (have: {known})")))
    if problems:
        raise SpecError("\n".join(problems))
    return Config(
        path=path,
        service_name=data["service_name"],
        service=parsed["service"],
        http_chat_route=parsed["http_chat_route"],
        http_unary_chat_route=parsed["http_unary_chat_route"],
        llm_chat_operation=parsed["llm_chat_operation"],
        rate_limited=regex,
        extras=data["extras"],
        runbook_url=data["links"]["runbook_url"],
        docs_url=data["links"]["docs_url"],
        uid_prefix=data["dashboards"]["uid_prefix"],
        tags=tuple(data["dashboards"]["tags"]),
        folder=data["dashboards"]["folder"],
        folder_uid=data["dashboards"]["folder_uid"],
        profile=chosen,
        metrics_interval=metrics_interval,
        for_=dict(data["profiles"][chosen]["for"]),
        profiles={name: dict(p["for"]) for name, p in data["profiles"].items()},
        skip_slos=tuple(data.get("skip_slos", ())),
        stack_alerts=data.get("stack_alerts", True),
        _reporter=reporter,
    )
