"""SLO recording rules and the generic SLO alerts (slo-alerts.yml).

Per SLO (labels service, slo + the SLO's extra labels):
- short windows 5m..6h: `slo:error_events:rate<W>` / `slo:total_events:rate<W>` straight from the
  SLI with rate() over W;
- long windows 1d, 3d, 30d: the mean of the recorded 5m rates over W (avg_over_time). Errors and
  total are averaged separately and then divided, so the ratio is a ratio of sums (traffic
  weighted), and a 30-day window reads one recorded sample per evaluation instead of 30 days of
  every raw SLI series. docs/slos.md explains the trade-off.
- ratios, burn rates, metadata constants, budget remaining, event volume.

Alerts, keyed on service and slo, one rule each for every SLO: SLOFastBurn (page: burn-rate
pairs plus an outage condition), SLOSlowBurn (ticket, once the long window is full of history),
SLOTrafficStopped and SLIMetricsAbsent (tickets). docs/slos.md explains the design and quotes the
measured detection and reset times (tests/prometheus/slo_properties.py).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from genobs.contract import is_app_metric, is_extra
from genobs.promql import inject, le_matcher, metric_names, quote, render_matchers
from slo.render import dashboard, runbook_url
from slo.spec import PLACEHOLDER, SELECTOR_PLACEHOLDERS, SLO, EventsSLI, Spec

if TYPE_CHECKING:
    from genobs.config import Config

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
TARGET_INFO = "target_info"  # what the collector path writes per pushing process


def _d(value: Decimal) -> str:
    """A Decimal as a PromQL literal without exponent or float noise (0.005, 14.4, 1)."""
    text = format(value.normalize(), "f")
    return text


# One condition of a burn alert: every window must burn above `factor` (the first is the "long"
# window the guards count events in). SRE Workbook, chapter 5 (30-day budget), with two changes:
# - every page condition also needs the 5m window ("still burning now"), so a page resolves within
#   about 5 minutes of recovery instead of when the 30m window empties (~30 min);
# - an explicit outage condition: over half the events of the last 5 minutes bad. It pages a total
#   outage within minutes whatever the objective (the 1h/5m pair needs 14.4 x budget of the hour
#   bad: 43 minutes of total outage at 95 %).
@dataclass(frozen=True)
class Condition:
    windows: tuple[str, ...]
    factor: Decimal | None  # None: only the cap (MAX_BAD_SHARE of the events bad)
    label: str  # for descriptions and docs

    @property
    def long(self) -> str:
        return self.windows[0]


# No condition asks for more than this share of events to be bad: a factor above
# MAX_BAD_SHARE / budget is capped there (14.4 x a 10 % budget would need 144 % bad events).
MAX_BAD_SHARE = Decimal("0.5")
MAX_BAD_PERCENT = f"{_d(MAX_BAD_SHARE * 100)}%"  # for people: alert texts, dashboards
# A burn alert needs at least this many bad events in its long window: one failure at low traffic
# is a huge burn rate but no trend.
MIN_BAD_EVENTS = 3
OUTAGE = Condition(("5m",), None, "outage")


@dataclass(frozen=True)
class BurnAlert:
    name: str
    severity: str
    conditions: tuple[Condition, ...]
    history: bool  # the long window must be full (a young Prometheus sees only part of it)
    speed: str


BURN_ALERTS: tuple[BurnAlert, ...] = (
    BurnAlert(
        "SLOFastBurn",
        "page",
        (
            Condition(("1h", "5m"), Decimal("14.4"), "1h/5m"),
            Condition(("6h", "30m", "5m"), Decimal("6"), "6h/30m/5m"),
            OUTAGE,
        ),
        history=False,
        speed="fast",
    ),
    BurnAlert(
        "SLOSlowBurn",
        "ticket",
        (
            Condition(("1d", "2h"), Decimal("3"), "1d/2h"),
            Condition(("3d", "6h"), Decimal("1"), "3d/6h"),
        ),
        history=True,
        speed="slowly but steadily",
    ),
)


# Every alert of slo-alerts.yml (each needs a `for:` in every profile of genai-obs.yaml).
ALERT_NAMES = (*(a.name for a in BURN_ALERTS), "SLOTrafficStopped", "SLIMetricsAbsent")


def burn_pairs(alert: str) -> tuple[tuple[str, str, Decimal], ...]:
    """(long, short, factor) of an alert's burn-rate pairs, for dashboards (without the outage
    condition and the 5m "still burning" window of the 6h page pair)."""
    a = next(b for b in BURN_ALERTS if b.name == alert)
    return tuple((c.windows[0], c.windows[1], c.factor) for c in a.conditions if c.factor)


# Stopped: no event in this window while that hour last week (else yesterday) had enough to page.
STOPPED_WINDOW = "30m"


def _resolve(text: str, cfg: Config) -> str:
    """Selector placeholders → the configured matchers ({{window}} stays for the rules to fill)."""
    subs = {name: render_matchers(getattr(cfg, name)) for name in SELECTOR_PLACEHOLDERS}
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
        # no error series before the first error: read 0, not "no data"
        return f"sum({sli.errors(window)})\nor\n0 * sum({sli.total(window)})\n"
    # A histogram exports every bucket with its _count: a missing threshold bucket (an `le`
    # spelled differently) must show as absent (SLIMetricsAbsent), never as "no errors".
    return sli.errors(window)


def _total_expr(slo: SLO, window: str) -> str:
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        return f"sum({sli.total(window)})"
    return sli.total(window)


def _ratios(
    windows: tuple[str, ...], sel: str, budget: str, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Per window: the error ratio of the recorded events, and its burn rate."""
    out = []
    for w in windows:
        ratio = f"slo:error_events:rate{w}{sel} / slo:total_events:rate{w}{sel}"
        out.append(_rec(f"slo:error_ratio:rate{w}", ratio, labels))
        burn = f"slo:error_ratio:rate{w}{sel} / {budget}"
        out.append(_rec(f"slo:burn_rate:rate{w}", burn, labels))
    return out


def slo_groups(slo: SLO, cfg: Config) -> list[dict[str, Any]]:
    slo = configured(slo, cfg)
    labels = slo.all_labels(cfg.service_name)
    sel = slo.selector(cfg.service_name)
    budget = _d(slo.error_budget)
    short: list[dict[str, Any]] = []
    for w in SHORT_WINDOWS:
        short.append(_rec(f"slo:error_events:rate{w}", _error_expr(slo, w), labels))
        short.append(_rec(f"slo:total_events:rate{w}", _total_expr(slo, w), labels))
    short += _ratios(SHORT_WINDOWS, sel, budget, labels)
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
    long += _ratios(LONG_WINDOWS, sel, budget, labels)
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
    # The constants ride in the long group: the short one would hold 25, over a Mimir ruler's 20.
    return [
        {"name": f"slo-{slo.name}-short", "rules": short},
        {"name": f"slo-{slo.name}-long", "interval": LONG_GROUP_INTERVAL, "rules": meta + long},
    ]


def cap_expr(selector: str = "") -> str:
    """The burn rate of MAX_BAD_SHARE bad (the alerts' cap, the SLO dashboard's cap line)."""
    return f"{_d(MAX_BAD_SHARE)} / slo:error_budget:ratio{selector}"


def _burn_above(window: str, factor: Decimal | None) -> str:
    cap = f"slo:burn_rate:rate{window} > {cap_expr()}"
    if factor is None:
        return cap
    return f"(slo:burn_rate:rate{window} > {_d(factor)} or {cap})"


def _condition(cond: Condition, history: bool) -> str:
    w = cond.long
    s = SECONDS[w]
    parts = [_burn_above(x, cond.factor) for x in cond.windows]
    parts.append(
        f"on (service, slo) (slo:total_events:rate{w} * {s}"
        " >= on (service, slo) slo:min_events_for_paging:count)"
    )
    parts.append(f"on (service, slo) (slo:error_events:rate{w} * {s} >= {MIN_BAD_EVENTS})")
    if history:
        parts.append(
            f"on (service, slo) present_over_time(slo:total_events:rate{BASE_WINDOW}[1h]"
            f" offset {w})"
        )
    return "(\n  " + "\nand\n  ".join(parts) + "\n)"


def describe(cond: Condition) -> str:
    """One condition for people: `1h/5m > 14.4x` or `5m > 50% bad`."""
    share = f"{MAX_BAD_PERCENT} bad"
    if cond.factor is None:
        return f"{cond.label}: {cond.long} > {share}"
    return f"{cond.label} > {_d(cond.factor)}× (or > {share})"


SLO_RUNBOOK = (
    '{{ with printf "slo:info{service=%q, slo=%q}" $labels.service $labels.slo | query }}'
    '{{ . | first | label "runbook" }}{{ end }}'
)


def _alert(
    cfg: Config, name: str, severity: str, expr: str, summary: str, description: str
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": cfg.for_of(name),
        "labels": {"severity": severity},
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": runbook_url(cfg, name),
            "slo_runbook": SLO_RUNBOOK,
            # The SLO dashboard is one service's (its uid prefix): it filters by SLO only.
            "dashboard": dashboard(cfg, SLO_DASHBOARD, "var-slo={{ $labels.slo }}"),
        },
    }


def burn_alert_rules(cfg: Config) -> list[dict[str, Any]]:
    rules = []
    for a in BURN_ALERTS:
        # `or` keeps the left value: longest window first, as the description promises.
        longest_first = sorted(a.conditions, key=lambda c: -SECONDS[c.long])
        conds = [_condition(c, a.history) for c in longest_first]
        fires = "; ".join(describe(c) for c in a.conditions)
        rules.append(
            _alert(
                cfg,
                a.name,
                a.severity,
                "\nor\n".join(conds) + "\n",
                f"SLO {{{{ $labels.slo }}}} of {{{{ $labels.service }}}} is burning its error "
                f"budget {a.speed}",
                "{{ $labels.service }} / {{ $labels.slo }} is spending its 30-day error budget "
                "{{ $value | humanize }}× faster than sustainable (burn rate of the longest window "
                f"that fired; fires at {fires}).",
            )
        )
    return rules


def traffic_stopped_rule(cfg: Config) -> dict[str, Any]:
    usual = "slo:total_events:rate1h"
    expr = (
        f"(\n  ({usual} offset 1w or {usual} offset 1d) * 3600 > 0\n)\n"
        # same label sets on both sides; `on` here would drop the SLO's extra labels
        ">= slo:min_events_for_paging:count\n"
        # `unless … > 0`: a dead OTLP-pushing app, or a target gone from discovery, has no series
        f"unless on (service, slo)\nslo:total_events:rate{STOPPED_WINDOW} > 0\n"
    )
    return _alert(
        cfg,
        "SLOTrafficStopped",
        "ticket",
        expr,
        "SLO {{ $labels.slo }} of {{ $labels.service }} sees no traffic",
        f"{{{{ $labels.service }}}} / {{{{ $labels.slo }}}} counted no event in {STOPPED_WINDOW} "
        "although this hour usually brings {{ $value | humanize }} (same hour last week, else "
        "yesterday): clients cannot reach it, its counters froze, or it stopped reporting.",
    )


def _absent(slo: SLO, service: str, record: str, series: str) -> str:
    matchers = ", ".join(f"{k}={quote(v)}" for k, v in slo.all_labels(service).items())
    return f'label_replace(absent({record}{{{matchers}}}), "sli_series", {quote(series)}, "", "")'


def sli_absent_rule(slos: tuple[SLO, ...], cfg: Config) -> dict[str, Any]:
    """One absence check per series an SLI reads (total; the threshold bucket of a histogram),
    while the service is alive (scraped and up, or pushing OTLP: target_info from the collector);
    a service that is down is TargetDown's (scraped) or SLOTrafficStopped's (gone)."""
    name = cfg.service_name
    parts = []
    for slo in slos:
        sli = slo.sli
        if isinstance(sli, EventsSLI):
            series = " or ".join(sorted(metric_names(sli.total_query)))  # what the query reads
            parts.append(_absent(slo, name, "slo:total_events:rate5m", series))
            continue
        parts.append(_absent(slo, name, "slo:total_events:rate5m", f"{sli.metric}_count"))
        bucket = f"{sli.metric}_bucket{{{le_matcher(sli.threshold)}}}"
        parts.append(_absent(slo, name, "slo:error_events:rate5m", bucket))
    sel = cfg.service_selector
    alive = f"count(up{{{sel}}} == 1 or {TARGET_INFO}{{{sel}}})"
    return _alert(
        cfg,
        "SLIMetricsAbsent",
        "ticket",
        "(\n" + "\nor\n".join(parts) + f"\n)\nand on ()\n{alive}\n",
        "SLO {{ $labels.slo }} of {{ $labels.service }} has no data",
        "{{ $labels.sli_series }} returns no series, so {{ $labels.service }} / "
        "{{ $labels.slo }} shows no data and cannot alert (instrumentation broken or renamed, a "
        "bucket bound spelled differently, or not one event since the process started).",
    )


def selected(spec: Spec, cfg: Config) -> tuple[SLO, ...]:
    """The SLOs the watched app can feed: not those in skip_slos (e.g. TTFT for an
    instrumentation that records no time to first chunk), and without rag-api's extras none
    built on them."""
    slos = tuple(s for s in spec.slos if s.name not in cfg.skip_slos)
    if cfg.extras:
        return slos
    return tuple(s for s in slos if not any(is_extra(m) for m in s.metrics()))


def alert_rules(slos: tuple[SLO, ...], cfg: Config) -> list[dict[str, Any]]:
    absent = [sli_absent_rule(slos, cfg)] if slos else []  # no SLO kept: no series to wait for
    return [*burn_alert_rules(cfg), traffic_stopped_rule(cfg), *absent]


def generate(spec: Spec, cfg: Config) -> dict[str, Any]:
    """File name (under prometheus/rules/) → YAML document."""
    files: dict[str, Any] = {}
    slos = selected(spec, cfg)
    for slo in slos:
        files[f"slo-{slo.name}.yml"] = {"groups": slo_groups(slo, cfg)}
    files["slo-alerts.yml"] = {"groups": [{"name": "slo-alerts", "rules": alert_rules(slos, cfg)}]}
    return files
