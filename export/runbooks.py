"""The runbooks as exported: written for the configured service, without the demo's steps.

docs/runbooks/ is written for the demo stack. Exported, a runbook
- keeps only the alerts the export generates (no runbook for an alert that does not exist);
- runs its queries on the service: every PromQL expression in a code span gets the service
  matchers on its app metrics and `service="<name>"` on its recorded series, as the rules do,
  and a LogQL stream `{service_name="rag-api"}` names the service;
- drops the list items that begin "In the demo" (how to reproduce or clear an injected fault);
- regenerates by exporting again (`make generate` rewrites the repository's own files only);
- links the exported dashboards (/d/<uid> under the uid prefix) and the exported rule files.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import promql_parser

from genobs.config import Config, load_config
from genobs.contract import is_app_metric, is_recorded
from genobs.promql import inject
from slo.llm_alerts import rate_limited_matcher
from slo.service import reads

DEMO_SERVICE = "rag-api"
_DEMO_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s+In the demo\b.*\n", re.M)
_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"/d/([a-z0-9-]+)")
_REGENERATE = ("`make generate`", "`python -m export` (this export's command line: README.md)")
_RULE_FILE = re.compile(r"prometheus/rules/([a-z0-9-]+)\.yml")


def adapt(text: str, cfg: Config, uids: set[str], rule_file: Callable[[str], str]) -> str:
    """One runbook for `cfg`'s service. `uids`: the dashboards' uids without prefix;
    `rule_file`: a shipped rule file's stem → its exported stem."""
    text = _DEMO_ITEM.sub("", text).replace(*_REGENERATE)
    text = _SPAN.sub(lambda m: f"`{_query(m.group(1), cfg)}`", text)
    text = _LINK.sub(
        lambda m: f"/d/{cfg.uid(m.group(1))}" if m.group(1) in uids else m.group(0), text
    )
    return _RULE_FILE.sub(lambda m: f"prometheus/rules/{rule_file(m.group(1))}.yml", text)


def _query(span: str, cfg: Config) -> str:
    """A code span as the service's query: PromQL scoped like the rules (a bare recorded series
    too, as it is a query; a bare app metric name is prose), LogQL's stream renamed; anything else
    (a name, a command) unchanged."""
    span = span.replace(f'service_name="{DEMO_SERVICE}"', f'service_name="{cfg.service_name}"')
    shipped = rate_limited_matcher(_shipped().rate_limited)
    span = span.replace(shipped, rate_limited_matcher(cfg.rate_limited))
    if span.lstrip().startswith("{"):
        return span
    bare = not any(c in span for c in "({")
    if bare and not is_recorded(span):
        return span
    try:
        promql_parser.parse(span)
    except ValueError:
        return span
    return reads(inject(span, cfg.service_selector, is_app_metric), cfg.service_name)


@functools.cache
def _shipped() -> Config:
    """The configuration the runbooks are written for (genai-obs.yaml)."""
    return load_config()
