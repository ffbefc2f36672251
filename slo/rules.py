"""SLO recording rules and the generic multiwindow, multi-burn-rate alert pair.

Per SLO (labels service, slo + the SLO's extra labels):
- short windows 5m..6h: `slo:error_events:rate<W>` / `slo:total_events:rate<W>` straight from the
  SLI with rate() over W;
- long windows 1d, 3d, 30d: the mean of the recorded 5m rates over W (avg_over_time). Errors and
  total are averaged separately and then divided, so the ratio is a ratio of sums (traffic
  weighted), and a 30-day window reads one recorded sample per evaluation instead of 30 days of
  every raw SLI series. docs/slos.md explains the trade-off.
- ratios, burn rates, metadata constants, budget remaining, event volume.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from generators.contract import is_app_metric, is_extra
from generators.promql import inject, render_matchers
from slo.render import dashboard, runbook_url
from slo.spec import PLACEHOLDER, SLO, EventsSLI, Spec

if TYPE_CHECKING:
    from generators.config import Config

SHORT_WINDOWS = ("5m", "30m", "1h", "2h", "6h")
LONG_WINDOWS = ("1d", "3d", "30d")
WINDOWS = SHORT_WINDOWS + LONG_WINDOWS
SECONDS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": 86400,
           "3d": 259200, "30d": 2592000}  # fmt: skip
# Long windows average this recorded short-window rate.
BASE_WINDOW = "5m"
# The long-window group reads up to 30 days of recorded samples: once a minute is plenty.
LONG_GROUP_INTERVAL = "1m"

SLO_DASHBOARD = "llm-slos"


def _d(value: Decimal) -> str:
    """A Decimal as a PromQL literal without exponent or float noise (0.005, 14.4, 1)."""
    text = format(value.normalize(), "f")
    return text


# SRE Workbook, chapter 5 (30-day budget): (long window, short window, burn-rate factor).
# `for:` of each alert comes from the profile in genai-obs.yaml.
BURN_ALERTS: dict[str, dict[str, Any]] = {
    "SLOFastBurn": {
        "severity": "page",
        "conditions": (("1h", "5m", Decimal("14.4")), ("6h", "30m", Decimal("6"))),
        "guard": True,  # min_events_for_paging applies to pages only
        "speed": "fast",
    },
    "SLOSlowBurn": {
        "severity": "ticket",
        "conditions": (("1d", "2h", Decimal("3")), ("3d", "6h", Decimal("1"))),
        "guard": False,
        "speed": "slowly but steadily",
    },
}


def _resolve(text: str, cfg: Config) -> str:
    """Route placeholders → the configured matchers ({{window}} stays for the rules to fill)."""
    subs = {
        "http_chat_route": render_matchers(cfg.http_chat_route),
        "http_unary_chat_route": render_matchers(cfg.http_unary_chat_route),
    }
    text = PLACEHOLDER.sub(lambda m: subs.get(m.group(1), m.group(0)), text)
    return re.sub(r"\s+\}", "}", re.sub(r"\{\s+", "{", text))


def configured(slo: SLO, cfg: Config) -> SLO:
    """The SLO with the config applied: routes filled in, service matchers on every selector."""
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        sli = EventsSLI(
            inject(_resolve(sli.error_query, cfg), cfg.service_selector, is_app_metric),
            inject(_resolve(sli.total_query, cfg), cfg.service_selector, is_app_metric),
        )
    else:
        selector = ", ".join(p for p in (cfg.service_selector, _resolve(sli.selector, cfg)) if p)
        sli = dataclasses.replace(sli, selector=selector)
    return dataclasses.replace(slo, sli=sli)


def _rec(record: str, expr: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"record": record, "expr": expr, "labels": dict(labels)}


def _error_expr(slo: SLO, window: str) -> str:
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        return f"sum({sli.errors(window)})\nor\n0 * sum({sli.total(window)})\n"
    return f"({sli.errors(window)})\nor\n0 * {sli.total(window)}\n"


def _total_expr(slo: SLO, window: str) -> str:
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        return f"sum({sli.total(window)})"
    return sli.total(window)


def slo_groups(slo: SLO, cfg: Config) -> list[dict[str, Any]]:
    slo = configured(slo, cfg)
    labels = slo.all_labels(cfg.service_name)
    sel = slo.selector(cfg.service_name)
    budget = _d(slo.error_budget)
    short: list[dict[str, Any]] = []
    for w in SHORT_WINDOWS:
        short.append(_rec(f"slo:error_events:rate{w}", _error_expr(slo, w), labels))
        short.append(_rec(f"slo:total_events:rate{w}", _total_expr(slo, w), labels))
    for w in SHORT_WINDOWS:
        short.append(
            _rec(
                f"slo:error_ratio:rate{w}",
                f"slo:error_events:rate{w}{sel} / slo:total_events:rate{w}{sel}",
                labels,
            )
        )
        short.append(
            _rec(f"slo:burn_rate:rate{w}", f"slo:error_ratio:rate{w}{sel} / {budget}", labels)
        )
    meta = [
        _rec("slo:objective:ratio", f"vector({_d(slo.objective)})", labels),
        _rec("slo:error_budget:ratio", f"vector({budget})", labels),
        _rec("slo:period:seconds", f"vector({SECONDS[slo.period]})", labels),
        _rec("slo:min_events_for_paging:count", f"vector({slo.min_events_for_paging})", labels),
        _rec("slo:info", "vector(1)", {**labels, "runbook": runbook_url(cfg, slo.runbook)}),
    ]
    long: list[dict[str, Any]] = []
    for w in LONG_WINDOWS:
        for kind in ("error_events", "total_events"):
            long.append(
                _rec(
                    f"slo:{kind}:rate{w}",
                    f"avg_over_time(slo:{kind}:rate{BASE_WINDOW}{sel}[{w}])",
                    labels,
                )
            )
    for w in LONG_WINDOWS:
        long.append(
            _rec(
                f"slo:error_ratio:rate{w}",
                f"slo:error_events:rate{w}{sel} / slo:total_events:rate{w}{sel}",
                labels,
            )
        )
        long.append(
            _rec(f"slo:burn_rate:rate{w}", f"slo:error_ratio:rate{w}{sel} / {budget}", labels)
        )
    period = slo.period
    long.append(
        _rec(
            "slo:error_budget_remaining:ratio",
            f"1 - slo:error_ratio:rate{period}{sel} / {budget}",
            labels,
        )
    )
    long.append(
        _rec(
            f"slo:events:increase{period}",
            f"slo:total_events:rate{period}{sel} * {SECONDS[period]}",
            labels,
        )
    )
    return [
        {"name": f"slo-{slo.name}-short", "rules": short + meta},
        {"name": f"slo-{slo.name}-long", "interval": LONG_GROUP_INTERVAL, "rules": long},
    ]


def _condition(long_w: str, short_w: str, factor: Decimal, guard: bool) -> str:
    f = _d(factor)
    expr = f"(slo:burn_rate:rate{long_w} > {f} and slo:burn_rate:rate{short_w} > {f})"
    if guard:
        expr = (
            f"(\n  {expr}\n  and on (service, slo)\n"
            f"  (slo:total_events:rate{long_w} * {SECONDS[long_w]}"
            " >= on (service, slo) slo:min_events_for_paging:count)\n)"
        )
    return expr


def alert_rules(cfg: Config) -> list[dict[str, Any]]:
    rules = []
    slo_runbook = (
        '{{ with printf "slo:info{service=%q, slo=%q}" $labels.service $labels.slo | query }}'
        '{{ . | first | label "runbook" }}{{ end }}'
    )
    for name, spec in BURN_ALERTS.items():
        conds = [_condition(lw, sw, f, spec["guard"]) for lw, sw, f in spec["conditions"]]
        windows = " or ".join(f"{lw}/{sw} > {_d(f)}×" for lw, sw, f in spec["conditions"])
        rules.append(
            {
                "alert": name,
                "expr": "\nor\n".join(conds) + "\n",
                "for": cfg.for_of(name),
                "labels": {"severity": spec["severity"]},
                "annotations": {
                    "summary": (
                        "SLO {{ $labels.slo }} of {{ $labels.service }} is burning its error "
                        f"budget {spec['speed']}"
                    ),
                    "description": (
                        "{{ $labels.service }} / {{ $labels.slo }} is spending its 30-day error "
                        "budget {{ $value | humanize }}× faster than sustainable (burn rate of "
                        f"the long window; fires at {windows})."
                    ),
                    "runbook_url": runbook_url(cfg, name),
                    "slo_runbook": slo_runbook,
                    "dashboard": dashboard(
                        cfg,
                        SLO_DASHBOARD,
                        "var-service={{ $labels.service }}&var-slo={{ $labels.slo }}",
                    ),
                },
            }
        )
    return rules


def selected(spec: Spec, cfg: Config) -> tuple[SLO, ...]:
    """The SLOs the watched app can feed: without rag-api's extras, none built on them."""
    if cfg.extras:
        return spec.slos
    return tuple(s for s in spec.slos if not any(is_extra(m) for m in s.metrics()))


def generate(spec: Spec, cfg: Config) -> dict[str, Any]:
    """File name (under prometheus/rules/) → YAML document."""
    files: dict[str, Any] = {}
    for slo in selected(spec, cfg):
        files[f"slo-{slo.name}.yml"] = {"groups": slo_groups(slo, cfg)}
    files["slo-alerts.yml"] = {"groups": [{"name": "slo-alerts", "rules": alert_rules(cfg)}]}
    return files
