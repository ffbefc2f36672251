"""SLOs as code: slo/slos.yaml + slo/thresholds.yaml → Prometheus rules (run `python -m slo`)."""

from __future__ import annotations

from pathlib import Path

from slo import docs, llm_alerts, prices, rules
from slo.render import dump
from slo.spec import SPEC_PATH, THRESHOLDS_PATH, load_spec, load_thresholds

RULES_DIR = "prometheus/rules"


def generate_all(
    spec_path: Path = SPEC_PATH, thresholds_path: Path = THRESHOLDS_PATH
) -> tuple[dict[str, str], list[str]]:
    """Every generated file (repo-relative path → text) and globs of files the generator owns."""
    spec = load_spec(spec_path)
    thresholds = load_thresholds(thresholds_path)
    spec_src = "slo/slos.yaml" if spec_path == SPEC_PATH else spec_path.name
    th_src = "slo/thresholds.yaml" if thresholds_path == THRESHOLDS_PATH else thresholds_path.name
    files: dict[str, str] = {}
    for name, doc in rules.generate(spec).items():
        files[f"{RULES_DIR}/{name}"] = dump(doc, spec_src)
    files[f"{RULES_DIR}/llm-alerts.yml"] = dump(llm_alerts.generate(thresholds), th_src)
    files[f"{RULES_DIR}/{prices.RULES_FILE}"] = dump(prices.generate(), "demo_app/data/prices.yaml")
    files["docs/alerts.md"] = docs.alerts_md(thresholds, th_src)
    return files, [f"{RULES_DIR}/slo-*.yml"]
