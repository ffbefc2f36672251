"""Run the exporter exactly as `make export` does (python -m export's main) into a directory."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import yaml

from export.__main__ import main


def run(*args: str) -> tuple[int, str]:
    """Exit code and stderr of `python -m export ARGS`, in-process (argparse errors included)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def export(out: Path, *args: str) -> Path:
    code, err = run("--out", str(out), *args)
    assert code == 0, err
    return out


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (relative path → bytes): to prove it was left untouched."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def rule_groups(path: Path) -> list[dict]:
    """The rule groups of any exported rule format: plain, Mimir namespace or PrometheusRule."""
    data = yaml.safe_load(path.read_text())
    if data.get("kind") == "PrometheusRule":
        return data["spec"]["groups"]
    return data["groups"]


def alerts(directory: Path) -> dict[str, dict]:
    """Alert name → rule, over the plain rule files of an export."""
    out: dict[str, dict] = {}
    for path in sorted((directory / "prometheus" / "rules").glob("*.yml")):
        for group in rule_groups(path):
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule["alert"] not in out, f"duplicate alert {rule['alert']}"
                    out[rule["alert"]] = rule
    return out


def exported_name(shipped: str, service: str = "rag-api") -> str:
    """The name a shipped rule file gets in an export: `<service>.<file>`, except the stack's
    alerts, the same for every service (one file all exports share)."""
    return shipped if shipped == "stack-alerts.yml" else f"{service}.{shipped}"
