"""genai-obs.yaml: the user's configuration of every generated artifact, and how it is applied.

- `config`   — load and validate genai-obs.yaml (which service, selectors, links, `for:` profiles)
- `context`  — the configuration the dashboard builders render with
- `contract` — which metrics are standard GenAI semconv and which are rag-api extras
- `promql`   — PromQL matchers: parse them, inject the service selectors into every query
- `yamlspec` — YAML with line numbers + JSON schema → `file:line: field: reason` errors

The generators (`python -m generators`) and the rule/dashboard builders (slo/, grafana/dashgen/)
import this package; it imports none of them. Importing it reads nothing.
"""
