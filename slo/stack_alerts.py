"""prometheus/rules/stack-alerts.yml: the telemetry stack watching itself.

These read the components' self-metrics, not the app's telemetry contract, so no service
matcher is added to them; their `service` label is the scraped job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from slo.alerting import JOB, AlertRow, Threshold, num

if TYPE_CHECKING:
    from genobs.config import Config

# Self-metrics of the stack (not in the app contract); tests/prometheus checks rules use only
# these and the contract. Names verified against the upstream projects (see docs/alerts.md).
OTELCOL_REFUSED = {
    "traces": "otelcol_receiver_refused_spans_total",
    "logs": "otelcol_receiver_refused_log_records_total",
    "metrics": "otelcol_receiver_refused_metric_points_total",
}
OTELCOL_SEND_FAILED = {
    "traces": "otelcol_exporter_send_failed_spans_total",
    "logs": "otelcol_exporter_send_failed_log_records_total",
    "metrics": "otelcol_exporter_send_failed_metric_points_total",
}
LOKI_REQUESTS = "loki_request_duration_seconds_count"
LOKI_PUSH_ROUTES = "loki_api_v1_push|otlp_v1_logs"
LOKI_DISCARDED = "loki_discarded_samples_total"
TEMPO_DISCARDED = "tempo_discarded_spans_total"
TEMPO_REFUSED = "tempo_receiver_refused_spans"
PROM_RULE_FAILURES = "prometheus_rule_evaluation_failures_total"
AM_NOTIFICATIONS_FAILED = "alertmanager_notifications_failed_total"

STACK_METRICS = frozenset(
    {
        "up",
        *OTELCOL_REFUSED.values(),
        *OTELCOL_SEND_FAILED.values(),
        LOKI_REQUESTS,
        LOKI_DISCARDED,
        TEMPO_DISCARDED,
        TEMPO_REFUSED,
        PROM_RULE_FAILURES,
        AM_NOTIFICATIONS_FAILED,
    }
)


def _rate_over(
    by: str, selectors: Sequence[str] | Mapping[str, str]
) -> Callable[[Threshold, Config], str]:
    """`sum by (by) (rate(s[5m])) > threshold` for each selector, joined with `or`. Selectors
    keyed by signal (traces, logs, metrics) label each sum with its `signal` (label_replace), so
    the alert says which one is lost; those long lines are laid out indented."""
    labelled: list[tuple[str | None, str]] = (
        list(selectors.items())
        if isinstance(selectors, Mapping)
        else [(None, s) for s in selectors]
    )

    def expr(t: Threshold, cfg: Config) -> str:
        parts = []
        for signal, selector in labelled:
            part = f"sum by ({by}) (rate({selector}[5m]))"
            if signal is not None:
                part = f'label_replace({part}, "signal", "{signal}", "", "")'
            parts.append(f"{part} > {num(t.value)}")
        return ("\n  or\n" if isinstance(selectors, Mapping) else "\nor\n").join(parts) + "\n"

    return expr


LOKI_PUSH_5XX = f'{LOKI_REQUESTS}{{route=~"{LOKI_PUSH_ROUTES}", status_code=~"5.."}}'

# fmt: off
STACK_ALERTS = (
    AlertRow(
        "TargetDown", "ticket", "stack-health",
        expr=lambda t, cfg: "up == 0\n",
        summary="{{ $labels.job }} target {{ $labels.instance }} is down",
        description="Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}).",
        meaning="A scrape target does not answer (per job and instance)",
        service=JOB,
        needs=(),
    ),
    AlertRow(
        "OtelCollectorRefusingData", "ticket", "stack-health",
        expr=_rate_over("job, receiver", OTELCOL_REFUSED),
        summary="The collector refuses {{ $labels.signal }}",
        description=(
            "Receiver {{ $labels.receiver }} refuses {printf} {{ $labels.signal }} items/s "
            "(usually memory_limiter back-pressure); senders drop or retry them."
        ),
        meaning="Collector receivers refuse spans, log records or metric points",
        service=JOB,
    ),
    AlertRow(
        "OtelCollectorExportFailing", "ticket", "stack-health",
        expr=_rate_over("job, exporter", OTELCOL_SEND_FAILED),
        summary="The collector cannot export {{ $labels.signal }}",
        description=(
            "Exporter {{ $labels.exporter }} fails to send {printf} {{ $labels.signal }} items/s "
            "to its backend."
        ),
        meaning="Collector exporters fail to send spans, log records or metric points",
        service=JOB,
    ),
    AlertRow(
        "LokiIngestionErrors", "ticket", "stack-health",
        expr=_rate_over("job", (LOKI_PUSH_5XX, LOKI_DISCARDED)),
        summary="Loki fails to ingest logs",
        description=(
            "Loki answers pushes with 5xx or discards lines: {printf}/s over the last 5 minutes"
            " (the 5xx rate when both happen)."
        ),
        meaning="Loki push requests fail (5xx) or lines are discarded",
        service=JOB,
    ),
    AlertRow(
        "TempoIngestionErrors", "ticket", "stack-health",
        expr=_rate_over("job", (TEMPO_DISCARDED, TEMPO_REFUSED)),
        summary="Tempo fails to ingest spans",
        description=(
            "Tempo discards or refuses {printf} spans/s over the last 5 minutes"
            " (the discarded rate when both happen)."
        ),
        meaning="Tempo discards or refuses spans",
        service=JOB,
    ),
    AlertRow(
        "PrometheusRuleEvaluationFailures", "ticket", "stack-health",
        expr=lambda t, cfg: (
            f"sum by (job, rule_group) (increase({PROM_RULE_FAILURES}[5m])) > {num(t.value)}\n"
        ),
        summary="Prometheus rules fail to evaluate",
        description=(
            "{{ $value | humanize }} evaluations of rule group {{ $labels.rule_group }} failed "
            "in the last 5 minutes: its recordings and alerts are blind."
        ),
        meaning="Rule evaluations fail (recordings and alerts go blind)",
        service=JOB,
    ),
    AlertRow(
        "AlertmanagerNotificationsFailing", "ticket", "stack-health",
        expr=_rate_over("job, integration", (AM_NOTIFICATIONS_FAILED,)),
        summary="Alertmanager cannot deliver {{ $labels.integration }} notifications",
        description=(
            "{printf} {{ $labels.integration }} notifications/s failed over the last 5 minutes: "
            "people may not hear about other alerts."
        ),
        meaning="Alertmanager notifications fail per integration",
        service=JOB,
    ),
    AlertRow(
        "Watchdog", "info", "stack-health",
        expr=lambda t, cfg: "vector(1)\n",
        summary="Alerting pipeline heartbeat",
        description=(
            "Always firing. If the heartbeat receiver stops hearing it, Prometheus, "
            "Alertmanager or the path between them is broken."
        ),
        meaning="Always fires; proves Prometheus → Alertmanager → receiver works",
        service="prometheus",
        needs=(),
    ),
)
# fmt: on
# Table fields of the texts (see AlertRow).
FIELDS = {"printf": '{{ $value | printf "%.2f" }}'}
