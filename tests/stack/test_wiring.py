"""Every address one service uses to reach another names a compose service and a port that
service really listens on (its own config says so). A typo here only shows at runtime, as
silently missing data, so it is checked here where nothing can run."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.stack.conftest import load_yaml, shipped_file


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def listening(
    compose: dict[str, Any],
    loki: dict[str, Any],
    tempo: dict[str, Any],
    collector: dict[str, Any],
) -> dict[str, set[int]]:
    """Container ports each service listens on, read from its own configuration."""
    otlp = collector["receivers"]["otlp"]["protocols"]
    tempo_otlp = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    prom_reader = collector["service"]["telemetry"]["metrics"]["readers"][0]
    loadgen_cmd = compose["services"]["loadgen"]["command"]
    rag_env = compose["services"]["rag-api"]["environment"]
    return {
        # Grafana, Prometheus and Alertmanager listen on their defaults (nothing overrides them).
        "grafana": {3000},
        "prometheus": {9090},
        "alertmanager": {9093},
        "loki": {loki["server"]["http_listen_port"]},
        "tempo": {
            tempo["server"]["http_listen_port"],
            _port(tempo_otlp["grpc"]["endpoint"]),
            _port(tempo_otlp["http"]["endpoint"]),
        },
        "otel-collector": {
            _port(otlp["grpc"]["endpoint"]),
            _port(otlp["http"]["endpoint"]),
            prom_reader["pull"]["exporter"]["prometheus"]["port"],
            _port(collector["extensions"]["health_check"]["endpoint"]),
        },
        "rag-api": {int(rag_env.get("PORT", 8000))},
        "loadgen": {int(loadgen_cmd[loadgen_cmd.index("--web-port") + 1])},
    }


def _assert_reaches(url_or_hostport: str, listening: dict[str, set[int]], who: str) -> None:
    if "://" not in url_or_hostport:
        url_or_hostport = "tcp://" + url_or_hostport
    parts = urlsplit(url_or_hostport)
    assert parts.hostname in listening, f"{who}: {parts.hostname!r} is not a compose service"
    assert parts.port in listening[parts.hostname], (
        f"{who}: {parts.hostname} does not listen on {parts.port}"
    )


def test_published_ports_are_listened_on(
    compose: dict[str, Any], listening: dict[str, set[int]]
) -> None:
    published = [(n, p) for n, svc in compose["services"].items() for p in svc.get("ports", [])]
    assert len(published) >= 8, "the stack publishes its UIs and APIs"
    for name, port in published:
        assert port["target"] in listening[name], f"{name} publishes {port['target']}"


def test_app_sends_to_collector(compose: dict[str, Any], listening: dict[str, set[int]]) -> None:
    endpoint = compose["services"]["rag-api"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    _assert_reaches(endpoint, listening, "rag-api OTLP")
    assert urlsplit(endpoint).port == 4318, "the app speaks OTLP/HTTP"


def test_collector_exports_to_tempo_and_loki(
    collector: dict[str, Any], listening: dict[str, set[int]]
) -> None:
    exporters = collector["exporters"]
    tempo_ep = exporters["otlp_grpc/tempo"]["endpoint"]
    _assert_reaches(tempo_ep, listening, "collector -> tempo")
    assert tempo_ep.startswith("tempo:") and _port(tempo_ep) == 4317
    loki_ep = exporters["otlp_http/loki"]["endpoint"]
    _assert_reaches(loki_ep, listening, "collector -> loki")
    assert urlsplit(loki_ep).path == "/otlp", "Loki's native OTLP path (the exporter adds /v1/logs)"


def test_collector_pushes_metrics_to_prometheus(
    collector: dict[str, Any], compose: dict[str, Any], listening: dict[str, set[int]]
) -> None:
    endpoint = collector["exporters"]["otlp_http/prometheus"]["metrics_endpoint"]
    _assert_reaches(endpoint, listening, "collector -> prometheus")
    assert urlsplit(endpoint).path == "/api/v1/otlp/v1/metrics"
    prometheus = compose["services"]["prometheus"]
    assert "--web.enable-otlp-receiver" in prometheus["command"]
    deps = compose["services"]["otel-collector"]["depends_on"]
    assert deps["prometheus"]["condition"] == "service_healthy"


def test_tempo_remote_writes_to_prometheus(
    tempo: dict[str, Any], compose: dict[str, Any], listening: dict[str, set[int]]
) -> None:
    (rw,) = tempo["metrics_generator"]["storage"]["remote_write"]
    _assert_reaches(rw["url"], listening, "tempo remote_write")
    assert "--web.enable-remote-write-receiver" in compose["services"]["prometheus"]["command"]


def test_prometheus_targets(prometheus: dict[str, Any], listening: dict[str, set[int]]) -> None:
    for job in prometheus["scrape_configs"]:
        for sc in job["static_configs"]:
            for target in sc["targets"]:
                if target.startswith("localhost:"):
                    assert job["job_name"] == "prometheus" and _port(target) == 9090
                    continue
                _assert_reaches(target, listening, f"scrape job {job['job_name']}")
                assert target.split(":")[0] == job["job_name"], "job named after its service"
    for am in prometheus["alerting"]["alertmanagers"]:
        for sc in am["static_configs"]:
            for target in sc["targets"]:
                _assert_reaches(target, listening, "alerting")


def test_grafana_datasource_urls(
    datasources: dict[str, dict[str, Any]], listening: dict[str, set[int]]
) -> None:
    assert set(datasources) == {"prometheus", "loki", "tempo", "alertmanager"}
    for uid, ds in datasources.items():
        _assert_reaches(ds["url"], listening, f"grafana datasource {uid}")
        assert urlsplit(ds["url"]).hostname == uid, "each datasource reads its namesake service"


def test_loadgen_targets_rag_api(compose: dict[str, Any], listening: dict[str, set[int]]) -> None:
    cmd = compose["services"]["loadgen"]["command"]
    _assert_reaches(cmd[cmd.index("--host") + 1], listening, "loadgen")


def test_healthchecks_probe_the_listening_port(
    compose: dict[str, Any], listening: dict[str, set[int]]
) -> None:
    probed = set()
    for name, svc in compose["services"].items():
        test = svc.get("healthcheck", {}).get("test", [])
        urls = [word for arg in test for word in arg.split("'") if "://" in word]
        for url in urls:
            parts = urlsplit(url)
            assert parts.hostname in {"localhost", "127.0.0.1"}, f"{name}: probe itself"
            assert parts.port in listening[name], f"{name}: healthcheck port {parts.port}"
            probed.add(name)
    # Grafana, Prometheus and Alertmanager probe over HTTP (docs/stack.md): the loop checked them.
    assert {"grafana", "prometheus", "alertmanager"} <= probed, probed


def test_alertmanager_config_path_matches_mount(compose: dict[str, Any]) -> None:
    am = compose["services"]["alertmanager"]
    flag = next(c for c in am["command"] if c.startswith("--config.file="))
    config_path = flag.split("=", 1)[1]
    mounts = {v["target"]: v["source"] for v in am["volumes"] if v["type"] == "bind"}
    directory, filename = config_path.rsplit("/", 1)
    assert directory in mounts and mounts[directory].endswith("/alertmanager")
    assert filename == "alertmanager.yml"
    # The shipped file (owned by the alert-rules issue) is what the service loads.
    shipped_file(f"alertmanager/{filename}", "alert-rules")
    assert load_yaml(f"alertmanager/{filename}") is not None


def test_smoke_test_expectations_match_the_stack(
    compose: dict[str, Any], prometheus: dict[str, Any], datasources: dict[str, Any]
) -> None:
    # The Docker-only smoke test cannot run here; keep what it expects in step with the files.
    from tests.smoke import test_stack_smoke as smoke

    always_on = {n for n, s in compose["services"].items() if "profiles" not in s}
    assert always_on == smoke.HEALTHY | smoke.NO_HEALTHCHECK
    assert {n for n in always_on if "healthcheck" not in compose["services"][n]} == (
        smoke.NO_HEALTHCHECK
    )
    assert {job["job_name"] for job in prometheus["scrape_configs"]} == smoke.JOBS
    assert set(smoke.DATASOURCES) == set(datasources)
