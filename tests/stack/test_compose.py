"""compose.yaml: parsed by the real Compose v2 binary, then held to the stack's policies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness import ROOT
from tests.stack.conftest import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    run_compose,
    shipped_file,
)

# docs/stack.md: the image lines the stack is built and tested for (exact tags, patch may move).
EXPECTED_IMAGES = {
    "grafana": r"grafana/grafana:13\.2\.\d+",
    "prometheus": r"prom/prometheus:v3\.14\.\d+",
    "alertmanager": r"prom/alertmanager:v0\.34\.\d+",
    "loki": r"grafana/loki:3\.7\.\d+",
    "tempo": r"grafana/tempo:3\.0\.\d+",
    "otel-collector": r"otel/opentelemetry-collector-contrib:0\.159\.\d+",
}
BUILT_HERE = {"rag-api", "loadgen"}  # built from demo_app/Dockerfile, tagged locally
STATEFUL = {"prometheus", "alertmanager", "loki", "tempo", "grafana"}
# Services without an in-container healthcheck, and why (docs/stack.md repeats the reason).
HEALTHCHECK_EXEMPT = {
    "otel-collector": "image is FROM scratch: no shell, wget or health binary",
}
ONE_SHOT = {"loadgen"}  # profile "load": started on demand, not kept alive
# Mounted directories whose content other issues deliver.
OTHER_ISSUES = {"alertmanager": "alert-rules", "grafana/dashboards": "dashboards"}
REQUIRED_PROMETHEUS_FLAGS = (
    "--config.file=/etc/prometheus/prometheus.yml",
    "--enable-feature=exemplar-storage",
    "--web.enable-remote-write-receiver",
    # The collector's metrics pipeline writes here (flag read at v3.14.0: cmd/prometheus/main.go).
    "--web.enable-otlp-receiver",
    # Delta OTLP metrics converted, not refused with the whole batch (read at v3.14.0:
    # cmd/prometheus/main.go, feature flag switch; storage/remote/write_otlp_handler.go).
    "--enable-feature=otlp-deltatocumulative",
    "--web.enable-lifecycle",
)


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def test_compose_config_is_valid_for_compose_v2(env_file: Path) -> None:
    proc = run_compose(env_file, "config", "--quiet")
    assert proc.returncode == 0, proc.stderr


def test_project_name_and_expected_services(compose: dict[str, Any]) -> None:
    assert compose["name"] == "genai-obs"
    assert set(_services(compose)) == set(EXPECTED_IMAGES) | BUILT_HERE


def test_empty_grafana_password_is_refused(tmp_path: Path) -> None:
    # .env.example as shipped has no password: Compose must refuse rather than let Grafana
    # fall back to admin/admin.
    env = tmp_path / ".env"
    env.write_text(ENV_EXAMPLE.read_text())
    proc = run_compose(env, "config", "--quiet")
    assert proc.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in proc.stderr


@pytest.mark.parametrize("service", sorted(EXPECTED_IMAGES))
def test_images_pinned_to_exact_tags(compose: dict[str, Any], service: str) -> None:
    image = _services(compose)[service]["image"]
    assert re.fullmatch(EXPECTED_IMAGES[service], image), (
        f"{service}: {image!r} is not an exact tag of the line docs/stack.md pins"
    )


def test_no_floating_tags_anywhere(compose: dict[str, Any]) -> None:
    for name, svc in _services(compose).items():
        image = svc.get("image", "")
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        assert tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: 'latest' is not reproducible"
        if name not in BUILT_HERE:
            assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {tag!r} is not exact"


def test_app_image_built_from_repo(compose: dict[str, Any]) -> None:
    for name in BUILT_HERE:
        build = _services(compose)[name]["build"]
        assert Path(build["context"]) == ROOT, f"{name}: build context must be the repo root"
        assert build["dockerfile"] == "demo_app/Dockerfile"
    shipped_file("demo_app/Dockerfile", "demo service")
    # One image for both: loadgen reuses what rag-api builds.
    images = {_services(compose)[n]["image"] for n in BUILT_HERE}
    assert len(images) == 1


def test_loadgen_is_an_opt_in_locust_profile(compose: dict[str, Any]) -> None:
    loadgen = _services(compose)["loadgen"]
    assert loadgen["profiles"] == ["load"]
    cmd = loadgen["command"]
    assert cmd[0] == "locust"
    assert cmd[cmd.index("-f") + 1] == "demo_app/loadgen/locustfile.py"
    assert cmd[cmd.index("--host") + 1] == "http://rag-api:8000"
    assert cmd[cmd.index("--web-port") + 1] == "8089"
    assert (ROOT / "demo_app" / "loadgen" / "locustfile.py").is_file()
    assert all("profiles" not in s for n, s in _services(compose).items() if n != "loadgen")


@pytest.mark.parametrize("service", sorted(set(EXPECTED_IMAGES) | BUILT_HERE))
def test_healthcheck_or_documented_exemption(compose: dict[str, Any], service: str) -> None:
    hc = _services(compose)[service].get("healthcheck")
    if service in HEALTHCHECK_EXEMPT:
        assert hc is None, f"{service} is exempt but has a healthcheck: update the list"
        docs = (ROOT / "docs" / "stack.md").read_text()
        assert service in docs and "FROM scratch" in docs, "docs/stack.md must give the reason"
        return
    assert hc and not hc.get("disable"), f"{service} needs a healthcheck (or an exemption)"
    test = hc["test"]
    assert test[0] == "CMD", f"{service}: exec form, several images have no shell"
    assert "start_period" in hc and hc.get("retries", 0) >= 3


def test_distroless_images_check_themselves(compose: dict[str, Any]) -> None:
    # Loki >= 3.6 and Tempo images have no shell or wget: only their own binary can probe.
    assert _services(compose)["loki"]["healthcheck"]["test"] == ["CMD", "/usr/bin/loki", "-health"]
    assert _services(compose)["tempo"]["healthcheck"]["test"] == ["CMD", "/tempo", "-health"]


def test_depends_on_waits_for_health_where_there_is_one(compose: dict[str, Any]) -> None:
    services = _services(compose)
    seen = 0
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items():
            seen += 1
            want = "service_healthy" if "healthcheck" in services[dep] else "service_started"
            assert spec["condition"] == want, f"{name} -> {dep}: condition should be {want}"
    assert seen >= 5
    assert "otel-collector" in services["rag-api"]["depends_on"]


def test_ports_only_on_bind_address(raw_compose: dict[str, Any], compose: dict[str, Any]) -> None:
    for name, svc in raw_compose["services"].items():
        for port in svc.get("ports", []):
            assert isinstance(port, str) and port.startswith("${BIND_ADDRESS:-127.0.0.1}:"), (
                f"{name}: published port {port!r} must bind ${{BIND_ADDRESS}}"
            )
    published = [(n, p) for n, svc in _services(compose).items() for p in svc.get("ports", [])]
    assert len(published) >= 8, "the stack publishes its UIs and APIs"
    for name, port in published:
        assert port["host_ip"] == "127.0.0.1", f"{name}: default must be loopback only"


def test_named_volumes_declared_and_used(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes", {}))
    used: dict[str, set[str]] = {}
    for name, svc in _services(compose).items():
        for vol in svc.get("volumes", []):
            if vol["type"] == "volume":
                assert vol["source"] in declared, f"{name}: volume {vol['source']} undeclared"
                used.setdefault(name, set()).add(vol["source"])
    assert {v for vs in used.values() for v in vs} == declared, "declared but unused volumes"
    for name in STATEFUL:
        assert used.get(name), f"{name} keeps state: it needs a named volume"


def test_bind_mounts_are_read_only_repo_paths(compose: dict[str, Any]) -> None:
    binds = [
        (name, vol)
        for name, svc in _services(compose).items()
        for vol in svc.get("volumes", [])
        if vol["type"] == "bind"
    ]
    assert len(binds) >= 5, "every service's config is bind-mounted from the repo"
    for name, vol in binds:
        source = Path(vol["source"])
        assert source.is_relative_to(ROOT), f"{name}: bind mount outside the repo"
        assert vol.get("read_only") is True, f"{name}: config mounts are read-only"
        rel = str(source.relative_to(ROOT))
        if rel in OTHER_ISSUES:
            shipped_file(rel, OTHER_ISSUES[rel])
        assert source.exists(), f"{name}: {rel} does not exist"


def test_every_variable_is_documented_in_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))
    assert used - documented == set(), "used in compose.yaml but missing from .env.example"
    assert documented - used == set(), "documented in .env.example but compose.yaml ignores it"


def test_runtime_policies(compose: dict[str, Any]) -> None:
    for name, svc in _services(compose).items():
        want_restart = "no" if name in ONE_SHOT else "unless-stopped"
        assert svc.get("restart") == want_restart, f"{name}: restart policy"
        logging = svc.get("logging", {})
        assert logging.get("driver") == "json-file", f"{name}: json-file logging"
        assert {"max-size", "max-file"} <= set(logging.get("options", {})), f"{name}: rotation"
        limits = svc.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("memory"), f"{name}: memory limit"
        assert "no-new-privileges:true" in svc.get("security_opt", []), name
        assert svc.get("read_only") is True, f"{name}: read-only root filesystem"


def test_read_only_roots_keep_a_writable_tmp(compose: dict[str, Any]) -> None:
    # Grafana stages plugin zips and Loki/Tempo spill to /tmp; on a read-only root without a
    # tmpfs they fail at runtime (Grafana 13 crash-loops), which nothing here could show.
    for name in ("grafana", "loki", "tempo"):
        tmpfs = _services(compose)[name].get("tmpfs") or []
        assert any(str(t).split(":")[0] == "/tmp" for t in tmpfs), f"{name}: tmpfs /tmp"


def test_prometheus_flags(compose: dict[str, Any]) -> None:
    cmd = _services(compose)["prometheus"]["command"]
    for flag in REQUIRED_PROMETHEUS_FLAGS:
        assert flag in cmd
    retention = next(c for c in cmd if c.startswith("--storage.tsdb.retention.time="))
    value = retention.split("=", 1)[1]
    m = re.fullmatch(r"(\d+)([dwy])", value)
    assert m, f"retention {value!r}"
    days = int(m.group(1)) * {"d": 1, "w": 7, "y": 365}[m.group(2)]
    assert days >= 35, "30d SLO windows plus `offset 1w` baselines need >= 35d"


def test_grafana_settings(compose: dict[str, Any], raw_compose: dict[str, Any]) -> None:
    env = _services(compose)["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] not in ("", "admin")
    raw = raw_compose["services"]["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert raw.startswith("${GRAFANA_ADMIN_PASSWORD:?")
    # Offline start: nothing is downloaded or checked at startup.
    assert env["GF_PLUGINS_PREINSTALL_DISABLED"] == "true"
    # 13.2 bundles its Prometheus/Loki/Tempo datasources as plugins; on a read-only root an
    # auto-update attempt unloads them and every provisioned datasource breaks.
    assert env["GF_PLUGINS_PREINSTALL_AUTO_UPDATE"] == "false"
    assert env["GF_ANALYTICS_CHECK_FOR_UPDATES"] == "false"
    assert env["GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES"] == "false"
    assert env["GF_ANALYTICS_REPORTING_ENABLED"] == "false"
    assert "GF_INSTALL_PLUGINS" not in env and "GF_PLUGINS_PREINSTALL" not in env


def test_grafana_home_dashboard_is_llm_overview(compose: dict[str, Any]) -> None:
    path = _services(compose)["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    mounts = {
        v["target"]: Path(v["source"])
        for v in _services(compose)["grafana"]["volumes"]
        if v["type"] == "bind"
    }
    target_dir, filename = path.rsplit("/", 1)
    assert target_dir in mounts, "home dashboard must live in a mounted directory"
    assert mounts[target_dir] == ROOT / "grafana" / "dashboards"
    assert filename == "llm-overview.json"


def test_collector_gets_the_sampling_knob(compose: dict[str, Any]) -> None:
    env = _services(compose)["otel-collector"]["environment"]
    assert env["TRACE_SAMPLING_PERCENT"] == "100"


def test_rag_api_telemetry_env(compose: dict[str, Any]) -> None:
    env = _services(compose)["rag-api"]["environment"]
    assert env["OTEL_SERVICE_NAME"] == "rag-api"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["ADMIN_TOKEN"], "stack.sh generates an admin token for make incident"
    # Metrics are scraped, never pushed: a metrics exporter would duplicate series.
    assert env["OTEL_METRICS_EXPORTER"] == "none"
