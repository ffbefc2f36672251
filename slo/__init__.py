"""SLOs as code: slo/slos.yaml + slo/thresholds.yaml + genai-obs.yaml → Prometheus rules.

Run through `make generate` (python -m generators), which renders every generated file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slo import docs, llm_alerts, prices, rules
from slo.render import dump
from slo.service import own
from slo.spec import SPEC_PATH, load_spec
from slo.thresholds import THRESHOLDS_PATH, load_thresholds

if TYPE_CHECKING:
    from genobs.config import Config

RULES_DIR = "prometheus/rules"


def generate_all(
    cfg: Config, spec_path: Path = SPEC_PATH, thresholds_path: Path = THRESHOLDS_PATH
) -> dict[str, str]:
    """Every generated rule file and docs/alerts.md: repo-relative path → text."""
    spec = load_spec(spec_path)
    thresholds = load_thresholds(thresholds_path)
    cfg.check_slos({s.name for s in spec.slos})
    cfg.check_alerts(set(thresholds) | set(rules.ALERT_NAMES))
    spec_src = "slo/slos.yaml" if spec_path == SPEC_PATH else spec_path.name
    th_src = "slo/thresholds.yaml" if thresholds_path == THRESHOLDS_PATH else thresholds_path.name
    files: dict[str, str] = {}
    for name, doc in rules.generate(spec, cfg).items():
        files[f"{RULES_DIR}/{name}"] = dump(
            own(doc, cfg.service_name), f"{spec_src} and genai-obs.yaml"
        )
    unfed = spec.unfed(cfg.skip_slos)
    for name, doc in llm_alerts.generate(thresholds, cfg, unfed).items():
        doc = doc if name == llm_alerts.STACK_FILE else own(doc, cfg.service_name)
        files[f"{RULES_DIR}/{name}"] = dump(doc, f"{th_src} and genai-obs.yaml")
    files[f"{RULES_DIR}/{prices.RULES_FILE}"] = dump(
        own(prices.generate(cfg), cfg.service_name),
        "genai_telemetry/prices.yaml and genai-obs.yaml",
    )
    no_slos = not rules.selected(spec, cfg)
    files["docs/alerts.md"] = docs.alerts_md(thresholds, cfg, th_src, unfed, no_slos)
    return files
