"""Observability Stack Health: is the telemetry pipeline itself working?

If these panels are unhealthy, the LLM dashboards are lying (missing spans, dropped logs,
failed rules, undelivered notifications). Metric names are the components' own self-metrics:
OpenTelemetry Collector 0.159 internal telemetry (receiverhelper/exporterhelper/processorhelper,
Prometheus-exported with `_total`), Loki 3.7, Tempo 3.0, Prometheus and Alertmanager.
"""

from __future__ import annotations

from slo.stack_alerts import (
    AM_NOTIFICATIONS_FAILED,
    LOKI_DISCARDED,
    LOKI_REQUESTS,
    OTELCOL_REFUSED,
    OTELCOL_SEND_FAILED,
    PROM_RULE_FAILURES,
    STACK_ALERTS,
    TEMPO_DISCARDED,
    TEMPO_REFUSED,
)

from . import common, core
from .core import GREEN, ORANGE, RED, YELLOW, prom, thresholds
from .promql import matchers, sum_rate

JOB = {"job": "~$job"}
STACK_ALERT_NAMES = tuple(a.name for a in STACK_ALERTS if a.name != "Watchdog")


def scrape_targets(d: core.Dashboard) -> None:
    d.row("Scrape targets")
    d.add(
        core.stat(
            "Target up",
            "Whether Prometheus' last scrape of each job succeeded (up). DOWN means no metrics "
            "from that component: its panels below go blank and TargetDown fires.",
            prom("min by (job) (up" + matchers(**JOB) + ")", "{{job}}"),
            "none",
            w=24,
            h=4,
            graph=False,
            mappings=core.value_mappings_up(),
            thresholds_=thresholds((None, RED), (1, GREEN)),
            text_mode="value_and_name",
        ),
    )
    d.add(
        core.timeseries(
            "Scrape duration by job",
            "How long each scrape takes; approaching the scrape timeout means lost samples.",
            [prom("max by (job) (scrape_duration_seconds" + matchers(**JOB) + ")", "{{job}}")],
            "s",
            w=12,
        ),
        core.timeseries(
            "Samples per scrape by job",
            "Series scraped per target: a sudden jump is a cardinality explosion.",
            [prom("sum by (job) (scrape_samples_scraped" + matchers(**JOB) + ")", "{{job}}")],
            "short",
            w=12,
        ),
    )


def collector(d: core.Dashboard) -> None:
    d.row("OpenTelemetry Collector")
    d.add(
        core.timeseries(
            "Receiver: spans accepted / refused",
            "Spans per second the collector's receivers accepted into the pipeline and refused "
            "(refused = back-pressure, e.g. memory_limiter; the app's exporter retries or drops).",
            [
                prom(
                    sum_rate("otelcol_receiver_accepted_spans_total", by=("receiver",)),
                    "accepted {{receiver}}",
                ),
                prom(
                    sum_rate(OTELCOL_REFUSED["traces"], by=("receiver",)),
                    "refused {{receiver}}",
                ),
            ],
            "short",
            w=8,
            overrides=[refused_red()],
        ),
        core.timeseries(
            "Receiver: log records accepted / refused",
            "Log records per second accepted and refused by the collector's receivers.",
            [
                prom(
                    sum_rate("otelcol_receiver_accepted_log_records_total", by=("receiver",)),
                    "accepted {{receiver}}",
                ),
                prom(
                    sum_rate(OTELCOL_REFUSED["logs"], by=("receiver",)),
                    "refused {{receiver}}",
                ),
            ],
            "short",
            w=8,
            overrides=[refused_red()],
        ),
        core.timeseries(
            "Processors: items dropped",
            "Items per second that went into a processor but did not come out (incoming − "
            "outgoing): tail sampling drops by design, anything else is data loss.",
            [
                prom(
                    sum_rate(
                        "otelcol_processor_incoming_items_total", by=("processor", "otel_signal")
                    )
                    + " - "
                    + sum_rate(
                        "otelcol_processor_outgoing_items_total", by=("processor", "otel_signal")
                    ),
                    "{{processor}} {{otel_signal}}",
                )
            ],
            "short",
            w=8,
        ),
    )


def collector_pipeline(d: core.Dashboard) -> None:
    """The rest of the Collector row."""
    d.add(
        core.timeseries(
            "Exporters: sent / failed",
            "Spans and log records per second the exporters delivered to Tempo and Loki, and "
            "those that failed after retries (lost).",
            [
                prom(
                    sum_rate("otelcol_exporter_sent_spans_total", by=("exporter",)),
                    "spans sent {{exporter}}",
                ),
                prom(
                    sum_rate(OTELCOL_SEND_FAILED["traces"], by=("exporter",)),
                    "spans failed {{exporter}}",
                ),
                prom(
                    sum_rate("otelcol_exporter_sent_log_records_total", by=("exporter",)),
                    "logs sent {{exporter}}",
                ),
                prom(
                    sum_rate(OTELCOL_SEND_FAILED["logs"], by=("exporter",)),
                    "logs failed {{exporter}}",
                ),
            ],
            "short",
            w=12,
            overrides=[failed_red()],
        ),
        core.timeseries(
            "Exporter queue fill",
            "Sending-queue size over capacity per exporter: near 100% the exporter cannot keep "
            "up and new data is rejected.",
            [
                prom(
                    "max by (exporter) "
                    "(otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)",
                    "{{exporter}}",
                )
            ],
            "percentunit",
            w=12,
            max_=1,
            thresholds_=thresholds((None, GREEN), (0.8, RED)),
            threshold_style="line",
        ),
    )


def loki_tempo(d: core.Dashboard) -> None:
    d.row("Loki and Tempo")
    d.add(
        core.timeseries(
            "Loki: lines received",
            "Log lines per second Loki's distributor accepted (all tenants).",
            [prom(sum_rate("loki_distributor_lines_received_total"), "lines/s")],
            "short",
            w=8,
        ),
        core.timeseries(
            "Loki: discarded lines by reason",
            "Log lines per second Loki rejected (rate limits, too-long lines, structured-metadata "
            "limits, out of order …), by reason.",
            [prom(sum_rate(LOKI_DISCARDED, by=("reason",)), "{{reason}}")],
            "short",
            w=8,
        ),
        core.timeseries(
            "Loki: 5xx responses by route",
            "Loki requests answered 5xx per second, per route (push/OTLP ingestion and queries).",
            [
                prom(
                    sum_rate(
                        LOKI_REQUESTS,
                        {"status_code": "~5.."},
                        by=("route",),
                    ),
                    "{{route}}",
                )
            ],
            "reqps",
            w=8,
        ),
    )
    d.add(
        core.timeseries(
            "Tempo: spans received / refused",
            "Spans per second Tempo's distributor received, and those its OTLP receiver refused "
            "(clients must retry or lose them).",
            [
                prom(sum_rate("tempo_distributor_spans_received_total"), "received"),
                prom(sum_rate(TEMPO_REFUSED), "refused"),
            ],
            "short",
            w=8,
            overrides=[refused_red()],
        ),
        core.timeseries(
            "Tempo: discarded spans by reason",
            "Spans per second Tempo refused (rate limited, trace too large …), by reason.",
            [prom(sum_rate(TEMPO_DISCARDED, by=("reason",)), "{{reason}}")],
            "short",
            w=8,
        ),
        core.timeseries(
            "Tempo: 5xx responses by route",
            "Tempo requests answered 5xx per second, per route.",
            [
                prom(
                    sum_rate(
                        "tempo_request_duration_seconds_count",
                        {"status_code": "~5.."},
                        by=("route",),
                    ),
                    "{{route}}",
                )
            ],
            "reqps",
            w=8,
        ),
    )


def prometheus_alertmanager(d: core.Dashboard) -> None:
    d.row("Prometheus and Alertmanager")
    d.add(
        core.timeseries(
            "Rule evaluation failures",
            "Failed rule evaluations per second by rule group: a failing group means missing SLO "
            "series and silent alerts.",
            [
                prom(
                    sum_rate(PROM_RULE_FAILURES, by=("rule_group",)),
                    "{{rule_group}}",
                )
            ],
            "short",
            w=6,
            thresholds_=thresholds((None, GREEN), (0.0001, RED)),
            threshold_style="line",
        ),
        core.timeseries(
            "Prometheus head series",
            "Active series in Prometheus' head block: the cardinality the stack is paying for.",
            [prom("sum(prometheus_tsdb_head_series)", "head series")],
            "short",
            w=6,
        ),
        core.timeseries(
            "Alertmanager notifications sent / failed",
            "Notifications per second per integration (webhook, email …) and the failed ones: a "
            "failed notification is a page nobody saw.",
            [
                prom(
                    sum_rate("alertmanager_notifications_total", by=("integration",)),
                    "sent {{integration}}",
                ),
                prom(
                    sum_rate(AM_NOTIFICATIONS_FAILED, by=("integration",)),
                    "failed {{integration}}",
                ),
            ],
            "short",
            w=6,
            overrides=[failed_red()],
        ),
        core.timeseries(
            "Alertmanager alerts by state",
            "Alerts Alertmanager holds, by state (active, suppressed by silence or inhibition).",
            [prom("sum by (state) (alertmanager_alerts)", "{{state}}")],
            "short",
            w=6,
            thresholds_=thresholds((None, GREEN), (1, YELLOW), (10, ORANGE)),
        ),
    )


ROWS: tuple[core.Row, ...] = (
    scrape_targets,
    collector,
    collector_pipeline,
    loki_tempo,
    prometheus_alertmanager,
)


def build() -> core.Json:
    return common.render(
        common.STACK,
        ROWS,
        description="Scrape health of every target, OpenTelemetry Collector throughput and "
        "refusals, Loki and Tempo ingestion and errors, Prometheus rule evaluation and head "
        "series, Alertmanager notifications.",
        tags=["stack"],
        variables=[
            core.datasource_var("prometheus"),
            core.query_var("job", "Job", "up", "job"),
        ],
        # The stack's own alerts by name: other services' alerts share this Prometheus.
        annotations=[common.firing_alerts(f'alertname=~"{"|".join(STACK_ALERT_NAMES)}"')],
    )


def _color_override(regex: str) -> core.Json:
    return {
        "matcher": {"id": "byRegexp", "options": regex},
        "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": RED}}],
    }


def refused_red() -> core.Json:
    return _color_override("refused.*")


def failed_red() -> core.Json:
    return _color_override(".*failed.*")
