"""Real processes for tests: rag-api (uvicorn), Prometheus and Alertmanager on loopback.

Prometheus and Alertmanager load the SHIPPED configs (prometheus/prometheus.yml,
prometheus/rules/*.yml, alertmanager/alertmanager.yml); only hosts, ports and demo intervals are
rewritten, so what the tests prove is what users run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from demo_app.config import DEMO_API_KEYS
from harness import ROOT, free_port, require_binary
from harness.process import Proc, spawn, start_command_app, with_port_retry

PROMETHEUS_CONFIG = ROOT / "prometheus" / "prometheus.yml"
PROMETHEUS_RULES = ROOT / "prometheus" / "rules"
ALERTMANAGER_CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
# The webhook credential: rag-api reads it from ALERTS_WEBHOOK_TOKEN, the shipped alertmanager.yml
# from this secret file (compose `secrets:`); start_alertmanager points the path at a test file.
WEBHOOK_TOKEN = "test-webhook-token-0123456789"
WEBHOOK_SECRET_PATH = "/run/secrets/alerts_webhook_token"
SELF = "self"  # start_prometheus(targets={"localhost:9090": SELF}) scrapes the Prometheus started


# --- rag-api -------------------------------------------------------------------------------------
def start_rag_api(
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    *,
    name: str = "rag-api",
    timeout: float = 60.0,
    source: Path = ROOT,
    module: str = "demo_app",
) -> Proc:
    """`python -m demo_app` on a free loopback port; returns once /readyz answers 200.

    Telemetry export is off unless `env` sets an OTLP endpoint; simulated latency defaults to 0;
    the Alertmanager webhook takes WEBHOOK_TOKEN unless `env` sets ALERTS_WEBHOOK_TOKEN, and the
    demo API keys (X-API-Key → tier) are known unless `env` sets API_KEYS.
    `source` is the directory holding the `demo_app` package to run (default: this checkout);
    `module` a module that runs it (bench.floor_app wraps it).
    """

    def once() -> Proc:
        port = free_port()
        base_env = {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SIM_LATENCY_SCALE": "0",
            "PYTHONUNBUFFERED": "1",
            "ALERTS_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "API_KEYS": DEMO_API_KEYS,
        }
        base_env.update(env or {})
        proc = spawn(name, [sys.executable, "-m", module], port, tmp_path / name, base_env, source)
        proc.wait_ready("/readyz", timeout=timeout)
        return proc

    return with_port_retry(once)


@contextmanager
def rag_api_factory(
    new_dir: Callable[[str], Path], base_env: Mapping[str, str] | None = None
) -> Iterator[Callable[..., Proc]]:
    """`start(env=None, name="rag-api")` → a running rag-api (start_rag_api in `new_dir(name)`,
    `env` over `base_env`); every one started is stopped on exit."""
    started: list[Proc] = []

    def start(env: Mapping[str, str] | None = None, name: str = "rag-api") -> Proc:
        proc = start_rag_api(new_dir(name), {**(base_env or {}), **(env or {})}, name=name)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


def start_python_app(
    tmp_path: Path,
    module: str,
    args: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    name: str,
    ready_path: str = "/readyz",
    timeout: float = 60.0,
    port: int | None = None,
) -> Proc:
    """`python -m module --port P *args` on a free loopback port; returns once `ready_path`
    answers 200 (e.g. bench.peer_app). `port`: one chosen beforehand (another process was told
    it already), tried once: a lost bind race raises ProcessError "address already in use"."""

    return start_command_app(
        tmp_path,
        lambda port: [sys.executable, "-m", module, "--port", str(port), *args],
        {"PYTHONUNBUFFERED": "1", **(env or {})},
        name=name,
        ready_path=ready_path,
        timeout=timeout,
        port=port,
    )


# --- Prometheus ----------------------------------------------------------------------------------
def render_prometheus_config(
    *,
    targets: Mapping[str, str],
    alertmanager: str | None,
    interval: str,
    rule_files: Iterable[Path],
    source: Path = PROMETHEUS_CONFIG,
    job_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The shipped prometheus.yml with hosts, ports, intervals and rule paths rewritten.

    `targets` maps shipped targets ("rag-api:8000") to loopback ones; a scrape job left with no
    mapped target is dropped, so nothing here scrapes a service that is not running.
    `job_names` renames scrape jobs (another app scraped in rag-api's place keeps its own name).
    """
    cfg = yaml.safe_load(source.read_text())
    glob = cfg.setdefault("global", {})
    glob["scrape_interval"] = interval
    glob["evaluation_interval"] = interval
    glob.pop("scrape_timeout", None)
    jobs = []
    for job in cfg.get("scrape_configs", []):
        job.pop("scrape_interval", None)
        job.pop("scrape_timeout", None)
        kept_static = []
        for sc in job.get("static_configs", []):
            mapped = [targets[t] for t in sc.get("targets", []) if t in targets]
            if mapped:
                kept_static.append({**sc, "targets": mapped})
        if kept_static:
            name = (job_names or {}).get(job["job_name"], job["job_name"])
            jobs.append({**job, "job_name": name, "static_configs": kept_static})
    cfg["scrape_configs"] = jobs
    cfg["rule_files"] = [str(p) for p in rule_files]
    if alertmanager:
        cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    else:
        cfg.pop("alerting", None)
    return cfg


def _with_group_interval(rule_files: Iterable[Path], interval: str, dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for path in rule_files:
        doc = yaml.safe_load(path.read_text()) or {}
        for group in doc.get("groups", []):
            if "interval" in group:
                group["interval"] = interval
        copy = dest / path.name
        copy.write_text(yaml.safe_dump(doc, sort_keys=False))
        out.append(copy)
    return out


def start_prometheus(
    tmp_path: Path,
    *,
    targets: Mapping[str, str],
    alertmanager: str | None = None,
    interval: str = "1s",
    rule_files: list[Path] | None = None,
    extra_args: Iterable[str] = (),
    name: str = "prometheus",
    data_dir: Path | None = None,
    rule_group_interval: str | None = None,
    job_names: Mapping[str, str] | None = None,
    source: Path = PROMETHEUS_CONFIG,
) -> Proc:
    """Real Prometheus (Debian 2.42 here) on the shipped config (or another shipped one,
    `source`); returns once /-/ready answers.

    Map a shipped target to `SELF` ("self") to have this Prometheus scrape itself.
    `rule_group_interval` overrides the groups' own `interval:` (the slow long-window SLO groups)
    in a copy of the rule files, so short tests see every recording rule evaluated.
    """
    binary = require_binary("prometheus")
    workdir = tmp_path / name
    workdir.mkdir(parents=True, exist_ok=True)
    rules = sorted(PROMETHEUS_RULES.glob("*.yml")) if rule_files is None else rule_files
    if rule_group_interval:
        rules = _with_group_interval(rules, rule_group_interval, workdir / "rules")

    def once() -> Proc:
        port = free_port()
        # A target mapped to "self" is this Prometheus (the shipped job scrapes localhost:9090).
        mapped = {k: (f"127.0.0.1:{port}" if v == SELF else v) for k, v in targets.items()}
        cfg = render_prometheus_config(
            targets=mapped,
            alertmanager=alertmanager,
            interval=interval,
            rule_files=rules,
            source=source,
            job_names=job_names,
        )
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        args = [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={data_dir or workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
            "--web.enable-remote-write-receiver",
            "--enable-feature=exemplar-storage",
            "--rules.alert.resend-delay=1s",
            "--log.level=warn",
            *extra_args,
        ]
        proc = spawn(name, args, port, workdir, None)
        proc.wait_ready("/-/ready")
        return proc

    return with_port_retry(once)


# --- Alertmanager --------------------------------------------------------------------------------
CONTAINER_ALERTMANAGER_DIR = "/etc/alertmanager/"


def _template_path(glob: str, shipped_dir: Path) -> str:
    if glob.startswith(CONTAINER_ALERTMANAGER_DIR):
        return str(shipped_dir / glob.removeprefix(CONTAINER_ALERTMANAGER_DIR))
    return glob if os.path.isabs(glob) else str(shipped_dir / glob)


def start_alertmanager(
    tmp_path: Path,
    config_path: Path | None = None,
    config_text: str | None = None,
    rewrite: Mapping[str, str] | None = None,
    *,
    name: str = "alertmanager",
    data_dir: Path | None = None,
) -> Proc:
    """Real Alertmanager (Debian 0.25 here) on the shipped config with substrings rewritten.

    `templates:` globs are made absolute: the container path /etc/alertmanager/… maps to the
    repo's alertmanager/ folder, and relative globs stay relative to the shipped file. The
    webhook credential file (WEBHOOK_SECRET_PATH) becomes a file holding WEBHOOK_TOKEN.
    """
    binary = require_binary("prometheus-alertmanager")
    workdir = tmp_path / name
    workdir.mkdir(parents=True, exist_ok=True)
    source = config_path or ALERTMANAGER_CONFIG
    text = config_text if config_text is not None else source.read_text()
    for old, new in (rewrite or {}).items():
        text = text.replace(old, new)
    token_file = workdir / "alerts_webhook_token"
    token_file.write_text(WEBHOOK_TOKEN + "\n")
    text = text.replace(WEBHOOK_SECRET_PATH, str(token_file))
    cfg = yaml.safe_load(text) or {}
    if cfg.get("templates"):
        cfg["templates"] = [_template_path(t, source.parent) for t in cfg["templates"]]
        text = yaml.safe_dump(cfg, sort_keys=False)
    config_file = workdir / "alertmanager.yml"
    config_file.write_text(text)

    def once() -> Proc:
        port = free_port()
        cluster_port = free_port()
        args = [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={data_dir or workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            # A private cluster listener: never gossip with other Alertmanagers on this machine.
            f"--cluster.listen-address=127.0.0.1:{cluster_port}",
            "--log.level=warn",
        ]
        proc = spawn(name, args, port, workdir, None)
        proc.wait_ready("/-/ready")
        return proc

    return with_port_retry(once)
