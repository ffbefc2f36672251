"""docs/scenarios.md: the scenario table (from scenarios.yaml) and the measured detection times.

Two generated sections between markers; everything else in the file is hand-written.
- scenario table: `python -m demo_app.loadgen docs` (a unit test fails when it is stale);
- detection times: written by the e2e tier (`make e2e`), with the machine it ran on.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path

from demo_app.loadgen.scenarios import Scenario, ScenarioFile

DOCS_FILE = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"
TABLE = "scenario-table"
MEASURED = "e2e-detection-times"
_REGEN = {
    TABLE: "generated from demo_app/loadgen/scenarios.yaml by `python -m demo_app.loadgen docs`",
    MEASURED: "written by the e2e tier (`make e2e`); numbers from the last run",
}

SKELETON = f"""# Load and incident scenarios

`make scenarios` lists them, `make incident SCENARIO=<name>` runs one against the running stack
(`make load` is `steady`). Each run sets the scenario's faults through `PUT /admin/faults`,
drives its traffic with Locust (headless; a compact progress line every 5 s, then a summary) and
always clears the faults at the end, also on Ctrl-C. Options: `python -m demo_app.loadgen run
<name> [--rate R] [--duration S] [--host URL] [--admin-token T] [--driver locust|builtin]`.
The admin token comes from `--admin-token`, `$ADMIN_TOKEN` or `ADMIN_TOKEN` in `.env`.

The traffic mix: user tiers, features, models, 30% streamed, questions from the knowledge base,
off-topic questions, arithmetic (the calculator tool path) and a few popular repeated questions
(response-cache hits). Scenarios tweak it (see `mix:` in `demo_app/loadgen/scenarios.yaml`).

## Scenarios

<!-- BEGIN {TABLE} -->
<!-- END {TABLE} -->

## Measured detection times

The e2e tier (`tests/e2e`, `make e2e`, part of `make test`) runs every scenario in parallel, each
against its own rag-api, Prometheus and Alertmanager loaded with the shipped configuration (only
hosts, ports and demo intervals rewritten: scrape and evaluation 5 s as in the stack, the
long-window SLO groups too, Alertmanager group_wait 1 s and group_interval 2 s), with the webhook
pointing at rag-api `/v1/alerts`. Times count from the moment the fault was set. All alert rules
keep their shipped windows and `for:` durations, so detection takes at least `for:` (2 min) plus
the time the windowed ratio needs to cross its threshold; in the stack (group_wait 10 s for
pages, 1 min for tickets) add ~10 s for pages, ~60 s for tickets.

<!-- BEGIN {MEASURED} -->
<!-- END {MEASURED} -->
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def scenario_table(scenarios: ScenarioFile) -> str:
    rows = [
        "| scenario | what happens | faults | traffic | must raise | must not raise |",
        "|---|---|---|---|---|---|",
    ]
    for s in scenarios.scenarios.values():
        rows.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"`{s.name}`",
                    s.description,
                    s.fault_summary(),
                    _traffic(s),
                    ", ".join(f"`{a}`" for a in s.expect_raise) or "—",
                    _forbid(s),
                )
            )
            + " |"
        )
    return "\n".join(rows)


def _traffic(s: Scenario) -> str:
    parts = []
    for p in s.phases:
        rate = s.rate * p.rate_factor
        label = f"{p.name} " if len(s.phases) > 1 else ""
        parts.append(f"{label}{p.duration:.0f}s at {rate:g} req/s")
    return "; ".join(parts)


def _forbid(s: Scenario) -> str:
    items = [f"`{a}`" for a in s.forbid]
    if s.forbid_any_other:
        items.append("anything but `Watchdog`")
    return ", ".join(items) or "—"


def replace_section(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"section markers for {name!r} not found")
    block = f"{begin}\n<!-- {_REGEN[name]} -->\n{body.rstrip()}\n{end}"
    return pattern.sub(lambda _: block, text, count=1)


def read_section(text: str, name: str) -> str | None:
    m = re.search(
        re.escape(f"<!-- BEGIN {name} -->")
        + r"\n(?:<!--.*?-->\n)?(.*?)\n?"
        + re.escape(f"<!-- END {name} -->"),
        text,
        re.S,
    )
    return m.group(1).strip() if m else None


def current_text(path: Path = DOCS_FILE) -> str:
    return path.read_text() if path.exists() else SKELETON


def write_section(name: str, body: str, path: Path = DOCS_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(current_text(path), name, body))


def machine() -> str:
    """`N cores, <CPU model>, <OS>`: where a measurement was taken."""
    import os

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores (nproc), {model}, {platform.system()} {platform.release()}"
