"""LLM SLOs: for each SLO, are we meeting it over the period and how fast is the budget burning?

Built only on the generated recording rules (`make generate` → prometheus/rules/slo-*.yml), so the
numbers here are exactly what the SLOFastBurn/SLOSlowBurn alerts evaluate.
"""

from __future__ import annotations

from slo.rules import ALERT_NAMES, MAX_BAD_SHARE, cap_expr
from slo.rules import MAX_BAD_PERCENT as SHARE  # of the events bad: no condition asks more

from . import common, core, limits
from .core import GREEN, ORANGE, RED, YELLOW, prom, thresholds

# The recorded series of this dashboard's service only (targets.app adds `service`): a Prometheus
# holding several services' rules gets one SLO dashboard per service, each its own.
SEL = '{slo=~"$slo"}'
# Multiwindow, multi-burn-rate pairs (SRE Workbook): (long, short, burn-rate threshold).
PAGE_WINDOWS = limits.PAGE_WINDOWS
TICKET_WINDOWS = limits.TICKET_WINDOWS
ALL_WINDOWS = limits.ALL_WINDOWS
FACTORS = sorted(f for _, _, f in (*TICKET_WINDOWS, *PAGE_WINDOWS))
BURN_UNIT = "suffix:×"
SLO_ALERTS = f'alertname=~"{"|".join(ALERT_NAMES)}"'  # every alert of slo-alerts.yml
HOURS = {"5m": 1 / 12, "30m": 0.5, "1h": 1, "2h": 2, "6h": 6, "1d": 24, "3d": 72}
PERIOD_HOURS = 30 * 24


def slo_alerts() -> str:
    """ALERTS matchers for this service's SLO alerts of the picked SLOs."""
    return common.app_alerts(f'{SLO_ALERTS}, slo=~"$slo"')


def pairs_text(
    pairs: tuple[tuple[str, str, float], ...], sep: str, joiner: str, budget: bool = False
) -> str:
    """ "1h & 5m above 14.4 or 6h & 30m above 6", from the alert rules' own windows and factors."""
    parts = []
    for i, (long, short, factor) in enumerate(pairs):
        text = f"{long} {sep} {short} above {factor:g}"
        if budget and i == 0:  # what that factor spends of the period's budget in its long window
            span = "an hour" if long == "1h" else long
            text += f" ({factor * HOURS[long] / PERIOD_HOURS:.0%} of the budget in {span})"
        parts.append(text)
    return joiner.join(parts)


def dashed(legend_end: str) -> core.Json:
    """A field override: the series whose legend ends with `legend_end` drawn dashed."""
    return {
        "matcher": {"id": "byRegexp", "options": f".* {legend_end}$"},
        "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}],
    }


def cap_text(pairs: tuple[tuple[str, str, float], ...]) -> str:
    """What the dashed cap line of a burn panel is (slo.rules caps every factor there)."""
    return (
        f"No condition asks for more than {SHARE} of the events bad: each SLO's dashed line "
        f'("cap") is the lower of {max(p[2] for p in pairs):g} and {MAX_BAD_SHARE} ÷ its error '
        "budget, and a pair fires when both its windows are above the lower of its own line and "
        "the cap"
    )


def burn_panel(
    title: str, description: str, pairs: tuple[tuple[str, str, float], ...]
) -> core.Panel:
    targets = []
    for long, short, _ in pairs:
        targets.append(prom(f"slo:burn_rate:rate{long}{SEL}", "{{slo}} " + long))
        targets.append(prom(f"slo:burn_rate:rate{short}{SEL}", "{{slo}} " + short))
    low, high = sorted(p[2] for p in pairs)
    # Clamped to the highest fixed line: a 99.9 % SLO's cap (500) would flatten every other line.
    cap = f"clamp_max({cap_expr(SEL)}, {high:g})"
    targets.append(prom(cap, "{{slo}} cap"))
    return core.timeseries(
        title,
        description,
        targets,
        BURN_UNIT,
        thresholds_=thresholds((None, GREEN), (low, ORANGE), (high, RED)),
        threshold_style="line",
        decimals=1,
        overrides=[dashed("cap")],
    )


# The SLO status table's columns: header, query, unit.
COLUMNS = [
    ("Objective", f"slo:objective:ratio{SEL}", "percentunit"),
    ("SLI (period)", f"1 - slo:error_ratio:rate30d{SEL}", "percentunit"),
    ("Error budget", f"slo:error_budget:ratio{SEL}", "percentunit"),
    ("Budget left", f"slo:error_budget_remaining:ratio{SEL}", "percentunit"),
    ("Burn 1h", f"slo:burn_rate:rate1h{SEL}", BURN_UNIT),
    ("Burn 6h", f"slo:burn_rate:rate6h{SEL}", BURN_UNIT),
    ("Burn 3d", f"slo:burn_rate:rate3d{SEL}", BURN_UNIT),
    ("Events (period)", f"slo:events:increase30d{SEL}", "short"),
    ("Period", f"slo:period:seconds{SEL}", "dtdurations"),
]
REFS = "ABCDEFGHIJ"


def status_row(d: core.Dashboard) -> None:
    d.row("Status over the SLO period")
    d.add(
        core.table(
            "SLO status",
            "One row per SLO: objective, SLI measured over the whole period (1 − error ratio over "
            "30d), the error budget (1 − objective), the share of it left (negative = SLO missed), "
            "current burn rates (1 = spending exactly the budget over the period) and event "
            "volume.",
            [prom(expr) for _, expr, _ in COLUMNS],
            "percentunit",
            w=24,
            h=7,
            decimals=3,
            transformations=[
                # Grafana's merge keeps rows apart whose __name__ differs (the recorded series):
                # the column per query needs it gone first.
                {
                    "id": "filterFieldsByName",
                    "options": {"exclude": {"names": ["__name__"]}},
                },
                {"id": "merge", "options": {}},
                {
                    "id": "organize",
                    "options": {
                        "excludeByName": {"Time": True},
                        "renameByName": {
                            f"Value #{REFS[i]}": name for i, (name, _, _) in enumerate(COLUMNS)
                        },
                        "indexByName": {},
                    },
                },
            ],
            overrides=[
                core.override_unit(name, unit, decimals=2)
                for name, _, unit in COLUMNS
                if unit != "percentunit"
            ],
        ),
    )


def status_gauges(d: core.Dashboard) -> None:
    """The rest of the status row: budget left, burn per window, SLO alerts."""
    d.add(
        core.bargauge(
            "Error budget left",
            "Share of each SLO's 30-day error budget that is still unspent. Below 0 the objective "
            "is already missed for this period.",
            [prom(f"slo:error_budget_remaining:ratio{SEL}", "{{slo}}", instant=True)],
            "percentunit",
            w=8,
            h=8,
            min_=-1,
            max_=1,
            thresholds_=thresholds((None, RED), (0, ORANGE), (0.25, YELLOW), (0.5, GREEN)),
            decimals=1,
        ),
        core.bargauge(
            "Burn rate per alert window (now)",
            "Current burn rate over each alerting window. "
            f"Page: {pairs_text(PAGE_WINDOWS, 'and', ', or ')}. "
            f"Ticket: {pairs_text(TICKET_WINDOWS, 'and', ', or ')}. Each factor is capped at "
            f"{MAX_BAD_SHARE} ÷ error budget ({SHARE} of the events bad), and the page also fires "
            "when the 5m window alone is above that cap (an outage).",
            [
                prom(f"slo:burn_rate:rate{w}{SEL}", "{{slo}} " + w, instant=True)
                for w in ALL_WINDOWS
            ],
            BURN_UNIT,
            w=8,
            h=8,
            thresholds_=thresholds(
                (None, GREEN), (FACTORS[0], YELLOW), (FACTORS[-2], ORANGE), (FACTORS[-1], RED)
            ),
            decimals=1,
        ),
        core.table(
            "SLO alerts pending or firing",
            f"The SLO alerts ({', '.join(ALERT_NAMES)}) Prometheus is evaluating now, per SLO. "
            "Firing alerts also appear as annotations on the graphs.",
            [prom(f"sum by (alertname, alertstate, severity, slo) (ALERTS{{{slo_alerts()}}})")],
            "none",
            w=8,
            h=8,
            transformations=[
                {"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True}}}
            ],
        ),
    )


def burn_rates(d: core.Dashboard) -> None:
    d.row("Burn rates over time")
    d.add(
        burn_panel(
            "Burn rate: page windows",
            "Burn rate over the page windows. The page alert fires when BOTH windows of a pair are "
            f"above its line: {pairs_text(PAGE_WINDOWS, '&', ' or ', budget=True)}. "
            f"{cap_text(PAGE_WINDOWS)}. It also fires on an outage: the 5m line alone above "
            f"{MAX_BAD_SHARE} ÷ error budget (over {SHARE} of 5 minutes' events bad), drawn "
            "or not.",
            PAGE_WINDOWS,
        ),
        burn_panel(
            "Burn rate: ticket windows",
            "Burn rate over the ticket windows: "
            f"{pairs_text(TICKET_WINDOWS, '&', ', or ')} (the budget would be gone before the "
            f"period ends). {cap_text(TICKET_WINDOWS)}.",
            TICKET_WINDOWS,
        ),
    )


def sli_events(d: core.Dashboard) -> None:
    d.row("SLI and events")
    d.add(
        core.timeseries(
            "SLI (1h window) and objective",
            "Good-event ratio over the last hour per SLO next to its objective (dashed): dips "
            "below the objective spend budget.",
            [
                prom(f"1 - slo:error_ratio:rate1h{SEL}", "{{slo}} SLI 1h"),
                prom(f"slo:objective:ratio{SEL}", "{{slo}} objective"),
            ],
            "percentunit",
            w=8,
            min_=None,
            decimals=3,
            overrides=[dashed("objective")],
        ),
        core.timeseries(
            "Error budget left over time",
            "How the remaining 30-day budget evolved: a steep drop is an incident.",
            [prom(f"slo:error_budget_remaining:ratio{SEL}", "{{slo}}")],
            "percentunit",
            w=8,
            min_=None,
            thresholds_=thresholds((None, RED), (0, GREEN)),
            threshold_style="line",
        ),
        core.timeseries(
            "Event volume (5m rate)",
            "Total and bad events per second per SLO: a burn rate on tiny traffic is noise.",
            [
                prom(f"slo:total_events:rate5m{SEL}", "{{slo}} total"),
                prom(f"slo:error_events:rate5m{SEL}", "{{slo}} bad"),
            ],
            "cps",
            w=8,
        ),
    )


ROWS: tuple[core.Row, ...] = (
    status_row,
    status_gauges,
    burn_rates,
    sli_events,
)


def build() -> core.Json:
    return common.render(
        common.SLOS,
        ROWS,
        description=f"Service level objectives of {common.service()}: SLI over the 30-day "
        "period, objective, error budget left, burn rate per alert window, event volume and SLO "
        "alerts. Built on the generated slo:* recording rules.",
        tags=["llm", "slo"],
        variables=[
            core.datasource_var("prometheus"),
            core.query_var("slo", "SLO", "slo:objective:ratio", "slo"),
        ],
        annotations=[common.firing_alerts(slo_alerts())],
        time_from="now-6h",
    )
