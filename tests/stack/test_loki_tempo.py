"""loki/loki.yaml (Loki 3.7) and tempo/tempo.yaml (Tempo 3.0): structure and version traps.

Neither engine runs here; these tests pin the keys that decide whether they start and keep
data (the running containers are proven by `make smoke`). Known top-level keys come from the
upstream configuration references of exactly these versions: both engines reject unknown keys.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from genai_telemetry import semconv

# Loki 3.7 configuration reference, "Supported contents and default values of loki.yaml".
LOKI_TOP_LEVEL = {
    "analytics", "auth_enabled", "ballast_bytes", "bloom_build", "bloom_gateway",
    "chunk_store_config", "common", "compactor", "compactor_grpc_client", "dataobj",
    "distributor", "frontend", "frontend_worker", "index_gateway", "ingest_limits",
    "ingest_limits_frontend", "ingest_limits_frontend_client", "ingester", "ingester_client",
    "kafka_config", "limits_config", "memberlist", "metrics_namespace", "operational_config",
    "pattern_ingester", "profiling", "querier", "query_engine", "query_range",
    "query_scheduler", "ruler", "ruler_storage", "runtime_config", "schema_config", "server",
    "shutdown_delay", "storage_config", "table_manager", "target",
    "tenant_limits_allow_publish", "tracing", "ui",
}  # fmt: skip
# Tempo 3.0 configuration manifest (top-level blocks).
TEMPO_TOP_LEVEL = {
    "target", "http_api_prefix", "memory", "server", "internal_server", "distributor",
    "live_store_client", "querier", "query_frontend", "metrics_generator", "ingest",
    "block_builder", "storage", "overrides", "memberlist", "usage_report", "cache",
    "backend_scheduler", "backend_scheduler_client", "backend_worker", "live_store",
}  # fmt: skip
# Removed in Tempo 3: present, they stop Tempo from starting.
TEMPO_REMOVED = {"ingester", "compactor", "metrics_generator_client"}


def _hours(duration: str) -> float:
    m = re.fullmatch(r"(\d+)([hdw])", duration)
    assert m, f"unexpected duration {duration!r}"
    return int(m.group(1)) * {"h": 1, "d": 24, "w": 168}[m.group(2)]


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    out = [(path, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _walk(v, f"{path}[{i}]")
    return out


def _volume_target(compose: dict[str, Any], service: str) -> PurePosixPath:
    vols = [v for v in compose["services"][service]["volumes"] if v["type"] == "volume"]
    assert len(vols) == 1
    return PurePosixPath(vols[0]["target"])


# --- Loki ---------------------------------------------------------------------------------------


def test_loki_only_known_top_level_keys(loki: dict[str, Any]) -> None:
    assert set(loki) <= LOKI_TOP_LEVEL, set(loki) - LOKI_TOP_LEVEL


def test_loki_single_binary_storage(loki: dict[str, Any]) -> None:
    assert loki["auth_enabled"] is False
    common = loki["common"]
    assert common["replication_factor"] == 1
    assert common["ring"]["kvstore"]["store"] == "inmemory"
    assert "filesystem" in common["storage"]
    schema = loki["schema_config"]["configs"][-1]
    assert (schema["store"], schema["schema"], schema["object_store"]) == (
        "tsdb",
        "v13",
        "filesystem",
    )
    assert schema["index"]["period"] == "24h"


def test_loki_data_lives_on_the_volume(loki: dict[str, Any], compose: dict[str, Any]) -> None:
    volume = _volume_target(compose, "loki")
    paths = [
        loki["common"]["path_prefix"],
        *loki["common"]["storage"]["filesystem"].values(),
        loki["compactor"]["working_directory"],
    ]
    for p in paths:
        assert PurePosixPath(p).is_relative_to(volume), f"{p} is not on the loki volume"


def test_loki_retention_via_compactor(loki: dict[str, Any]) -> None:
    assert loki["compactor"]["retention_enabled"] is True
    assert loki["compactor"]["delete_request_store"] == "filesystem"
    assert _hours(loki["limits_config"]["retention_period"]) == 7 * 24


def test_loki_otlp_labels_and_structured_metadata(loki: dict[str, Any]) -> None:
    limits = loki["limits_config"]
    assert limits["allow_structured_metadata"] is True
    assert limits["max_structured_metadata_entries_count"] >= 64
    assert re.fullmatch(r"\d+KB", limits["max_structured_metadata_size"])
    resource = limits["otlp_config"]["resource_attributes"]
    index_labels = {
        a
        for rule in resource["attributes_config"]
        if rule["action"] == "index_label"
        for a in rule["attributes"]
    }
    # service.name -> service_name is THE index label (Grafana's trace->logs link uses it).
    assert index_labels == {"service.name"}
    assert resource["ignore_defaults"] is True


def test_loki_reports_nothing_home(loki: dict[str, Any]) -> None:
    assert loki["analytics"]["reporting_enabled"] is False


# --- Tempo --------------------------------------------------------------------------------------


def test_tempo_only_known_and_no_removed_blocks(tempo: dict[str, Any]) -> None:
    assert not set(tempo) & TEMPO_REMOVED, "Tempo 3 removed these blocks"
    assert set(tempo) <= TEMPO_TOP_LEVEL, set(tempo) - TEMPO_TOP_LEVEL


def test_tempo_no_local_blocks_processor(tempo: dict[str, Any]) -> None:
    for path, value in _walk(tempo):
        assert value != "local-blocks", f"{path}: local-blocks was removed in Tempo 3"
        assert not path.endswith("local_blocks"), path


def test_tempo_scoped_overrides(tempo: dict[str, Any]) -> None:
    overrides = tempo["overrides"]
    # The flat 2.x form (overrides.metrics_generator_processors, ...) makes Tempo 3 exit.
    assert set(overrides) == {"defaults"}
    generator = overrides["defaults"]["metrics_generator"]
    assert set(generator["processors"]) == {"service-graphs", "span-metrics"}
    assert generator["trace_id_label_name"] == "trace_id"


def test_tempo_receivers_listen_on_all_interfaces(tempo: dict[str, Any]) -> None:
    protocols = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"


def test_tempo_storage_on_volume_with_retention(
    tempo: dict[str, Any], compose: dict[str, Any]
) -> None:
    volume = _volume_target(compose, "tempo")
    trace = tempo["storage"]["trace"]
    assert trace["backend"] == "local"
    paths = [
        trace["wal"]["path"],
        trace["local"]["path"],
        tempo["metrics_generator"]["storage"]["path"],
    ]
    for p in paths:
        assert PurePosixPath(p).is_relative_to(volume), f"{p} is not on the tempo volume"
    assert _hours(tempo["backend_worker"]["compaction"]["block_retention"]) == 7 * 24


def test_tempo_metrics_generator_remote_writes_with_exemplars(tempo: dict[str, Any]) -> None:
    gen = tempo["metrics_generator"]
    (rw,) = gen["storage"]["remote_write"]
    assert rw["url"] == "http://prometheus:9090/api/v1/write"
    assert rw["send_exemplars"] is True
    # Span latencies on the app's buckets, so 5.12 s (latency SLO) is a bucket bound.
    buckets = gen["processor"]["span_metrics"]["histogram_buckets"]
    assert tuple(buckets) == tuple(semconv.DURATION_BUCKETS)


def test_tempo_reports_nothing_home(tempo: dict[str, Any]) -> None:
    assert tempo["usage_report"]["reporting_enabled"] is False
