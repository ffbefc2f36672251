"""README.md and docs/**/*.md describe what exists: links and #anchors resolve, targets exist."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from demo_app.corpus import load_documents
from demo_app.loadgen.scenarios import load_scenarios
from genai_telemetry import semconv as sc
from harness import ROOT
from slo.spec import load_spec

DASHBOARDS = ROOT / "grafana" / "dashboards"
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# [text](target) and [text](target "title"); images too. Not reference-style definitions.
LINK = re.compile(r"""!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)""")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
MAKE = re.compile(r"(?<![\w-])make\s+([a-z][\w-]*(?:/[a-z][\w-]*)*)")
TARGET = re.compile(r"^([A-Za-z0-9_.-]+(?:[ \t]+[A-Za-z0-9_.-]+)*)[ \t]*:(?!=)", re.M)


def repo_links(text: str) -> list[tuple[str, str]]:
    """(file, #anchor) of each link into the repository (no scheme); file "" is this one."""
    links = [t.partition("#") for t in LINK.findall(FENCE.sub("", text))]
    return [(f, a) for f, _, a in links if not re.match(r"^[a-z][a-z0-9+.-]*:", f, re.I)]


def relative_links(text: str) -> list[str]:
    """Files the links point at (pure #anchor links left out)."""
    return [file for file, _ in repo_links(text) if file]


def heading_anchors(text: str) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to '-', repeats get -1, -2."""
    repeats: dict[str, int] = {}
    anchors: set[str] = set()
    for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", FENCE.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = repeats.get(slug, 0)
        repeats[slug] = n + 1
        anchors.add(f"{slug}-{n}" if n else slug)
    return anchors


def make_targets_mentioned(text: str) -> set[str]:
    """`make X` inside code (fenced blocks and inline spans); `make up/down/clean` is three."""
    code = [m.group(0) for m in FENCE.finditer(text)]
    code += INLINE_CODE.findall(FENCE.sub("", text))
    found: set[str] = set()
    for chunk in code:
        for lines in chunk.splitlines():
            line = re.sub(r"(^|\s)#.*", "", lines)  # shell comments in code blocks are prose
            for m in MAKE.finditer(line):
                found.update(m.group(1).split("/"))
    return found


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    targets: set[str] = set()
    for m in TARGET.finditer(text):
        targets.update(m.group(1).split())
    return {t for t in targets if not t.startswith(".")}


def test_the_scanners_find_what_they_should() -> None:
    sample = (
        "See [a](docs/a.md#x), [web](https://x.org), [top](#top), ![img](img/p.png 'x').\n"
        "Run `make up/down/clean` or `make test`; in prose make sense is not a target.\n"
        "```bash\nmake load RATE=5   # then make nothing\n# make comment\n```\n"
    )
    assert relative_links(sample) == ["docs/a.md", "img/p.png"]
    assert make_targets_mentioned(sample) == {"up", "down", "clean", "test", "load"}
    assert {"test", "up", "help"} <= makefile_targets()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = [
        target
        for target in relative_links(doc.read_text())
        if target and not (doc.parent / target).exists()
    ]
    assert not broken, f"{doc.relative_to(ROOT)}: links to missing files: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_link_anchors_name_a_heading(doc: Path) -> None:
    broken = []
    for file, anchor in repo_links(doc.read_text()):
        target = doc.parent / file if file else doc
        readable = target.suffix == ".md" and target.exists()
        if anchor and readable and anchor not in heading_anchors(target.read_text()):
            broken.append(f"{file}#{anchor}")
    assert not broken, f"{doc.relative_to(ROOT)}: links to headings that do not exist: {broken}"


def test_the_anchor_scanner_follows_github() -> None:
    text = "# Top\n## 1. Cost — `peers`\n## What's new (unreleased)\n## Top\n```\n# not\n```\n"
    assert heading_anchors(text) == {
        "top", "1-cost--peers", "whats-new-unreleased", "top-1"
    }  # fmt: skip
    assert repo_links("[a](b.md#c) [d](#e) [f](https://x.org/#g) [h](i.md)") == [
        ("b.md", "c"),
        ("", "e"),
        ("i.md", ""),
    ]


def test_docs_link_somewhere() -> None:
    # The per-file test passes trivially on a file without links; the set as a whole must have some.
    assert len(DOCS) > 5
    assert sum(len(relative_links(d.read_text())) for d in DOCS) > 20
    assert sum(1 for d in DOCS for _, anchor in repo_links(d.read_text()) if anchor) > 5


def test_every_make_target_mentioned_exists() -> None:
    targets = makefile_targets()
    mentioned = {d.relative_to(ROOT): make_targets_mentioned(d.read_text()) for d in DOCS}
    assert sum(len(m) for m in mentioned.values()) > 10, "the scanner found no `make` commands"
    missing = {str(doc): sorted(m - targets) for doc, m in mentioned.items() if m - targets}
    assert not missing, f"`make <target>` in docs but not in the Makefile: {missing}"


@pytest.mark.external  # runs make: `make test` only
def test_make_help_lists_every_target() -> None:
    """README: "`make help` lists every target" — aliases declared on one line included."""
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    # The names column is the coloured one (its descriptions name targets too).
    listed = {
        name for names in re.findall(r"\x1b\[36m(.*?)\x1b\[0m", shown) for name in names.split()
    }
    assert not makefile_targets() - listed, sorted(makefile_targets() - listed)


_WORDS = {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11}


def test_readme_counts_hold() -> None:
    """The SLO and dashboard counts of README's table are the spec's and the tree's."""
    readme = (ROOT / "README.md").read_text()
    slos = re.search(r"SLOs as code: (\d+) SLOs", readme)
    assert slos and int(slos.group(1)) == len(load_spec().slos)
    dashboards = re.search(r"\| (\w+) Grafana dashboards", readme)
    assert dashboards, "README's dashboard row moved: update this test"
    assert _WORDS[dashboards.group(1).lower()] == len(list(DASHBOARDS.glob("*.json")))
    scenarios = re.search(r"and (\w+) incident scenarios", readme)
    assert scenarios, "README's load generator row moved: update this test"
    assert _WORDS[scenarios.group(1).lower()] == len(load_scenarios().scenarios)
    documents = re.search(r"BM25 over a (\d+)-document", readme)
    assert documents, "README's rag-api row moved: update this test"
    assert int(documents.group(1)) == len(load_documents())


def test_production_counts_hold() -> None:
    """docs/production.md's counts of what the default export holds: rule groups, SLOs,
    PrometheusRules (one per rule file) and dashboards, as the committed generated files hold."""
    text = " ".join((ROOT / "docs" / "production.md").read_text().split())
    files = sorted((ROOT / "prometheus" / "rules").glob("*.yml"))
    groups = {f.stem: len(yaml.safe_load(f.read_text())["groups"]) for f in files}
    dashboards = len(list(DASHBOARDS.glob("*.json")))
    landed = re.search(r"Rules lists (\d+) groups .*?: (\d+) SLOs; .*? with (\w+) dashboards", text)
    assert landed, "docs/production.md's 'Check it landed' step moved: update this test"
    assert int(landed.group(1)) == sum(groups.values())
    assert int(landed.group(2)) == len(load_spec().slos)
    assert _WORDS[landed.group(3)] == dashboards
    kube = re.search(r"holds (\d+) PrometheusRules, one per rule file, and (\d+) ConfigMaps", text)
    assert kube, "docs/production.md's kustomize sentence moved: update this test"
    assert (int(kube.group(1)), int(kube.group(2))) == (len(files), dashboards)
    mimir = re.search(r"One service takes (\d+) groups, each further service (\d+) more", text)
    assert mimir, "docs/production.md's Mimir group count moved: update this test"
    further = sum(n for stem, n in groups.items() if stem != "stack-alerts")  # stack_alerts: one
    assert (int(mimir.group(1)), int(mimir.group(2))) == (sum(groups.values()), further)


# docs/own-app.md's table of what an app on the unreleased GenAI names loses: each row's v1.41.0
# metric, and every SLO, alert and recording rule the row names must read it (maybe through rules).
_RENAMED = {
    "`gen_ai.client.operation.duration`, chat calls": sc.GENAI_OPERATION_DURATION,
    "`gen_ai.client.operation.time_to_first_chunk`": sc.GENAI_TIME_TO_FIRST_CHUNK,
    "`gen_ai.client.token.usage` by": sc.GENAI_TOKEN_USAGE,
}


def _rule_exprs() -> dict[str, str]:
    """Alert or record name → its expressions; `slo:<name>` → all expressions of that SLO's file."""
    exprs: dict[str, str] = {}
    for path in sorted((ROOT / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule["record"]
                exprs[name] = exprs.get(name, "") + rule["expr"]
                if path.stem.startswith("slo-") and path.stem != "slo-alerts":
                    key = "slo:" + path.stem.removeprefix("slo-")
                    exprs[key] = exprs.get(key, "") + rule["expr"]
    return exprs


def _reads(
    name: str, metric: str, exprs: dict[str, str], seen: frozenset[str] = frozenset()
) -> bool:
    expr = exprs[name]
    return metric in expr or any(
        _reads(other, metric, exprs, seen | {name})
        for other in exprs
        if other not in seen | {name} and ":" in other and re.search(rf"{re.escape(other)}\b", expr)
    )


def test_own_app_renames_table_names_rules_that_read_the_metric() -> None:
    section = (ROOT / "docs" / "own-app.md").read_text().split("newer names (unreleased)", 1)[1]
    exprs = _rule_exprs()
    for row_start, metric in _RENAMED.items():
        rows = [line for line in section.splitlines() if line.startswith(f"| {row_start}")]
        assert len(rows) == 1, f"docs/own-app.md: the row {row_start!r} moved"
        effects = rows[0].rsplit("|", 2)[1]
        named = [n for n in re.findall(r"`([\w:-]+)`", effects) if not n.startswith("llm_cost")]
        assert named, rows[0]
        for name in named:
            key = f"slo:{name}" if "-" in name else name  # SLO names have dashes, rules none
            assert key in exprs, f"docs/own-app.md names {name}, which no rule file defines"
            assert _reads(key, metric, exprs), f"{name} does not read {metric}"


def _optional_keys(schema: dict, prefix: str = "") -> set[str]:
    """Dotted keys of the schema's objects that a config may leave out."""
    out: set[str] = set()
    for key, sub in schema.get("properties", {}).items():
        if key not in schema.get("required", ()):
            out.add(prefix + key)
        out |= _optional_keys(sub, f"{prefix}{key}.")
    return out


def test_own_app_config_table_says_which_keys_are_required() -> None:
    """A user writing a config of their own from docs/own-app.md must learn which keys it needs:
    the table's second column is the shipped value, and the optional keys are listed as the
    schema has them (every other key is required)."""
    doc = (ROOT / "docs" / "own-app.md").read_text()
    section = doc.split("## The configuration file", 1)[1].split("\n## ", 1)[0]
    assert "| key | shipped value | what it does |" in section
    listed = re.search(r"Optional keys \(.*?\): (.*?)\.\n", section, re.S)
    assert listed, "docs/own-app.md: the sentence listing the optional keys moved"
    schema = json.loads((ROOT / "genobs" / "genai-obs.schema.json").read_text())
    assert set(re.findall(r"`([\w.]+)`", listed.group(1))) == _optional_keys(schema)


def _leaf_keys(schema: dict, prefix: str = "") -> set[str]:
    """Dotted keys of the schema's leaves (objects without fixed properties count as leaves)."""
    props = schema.get("properties")
    if not props:
        return {prefix.rstrip(".")}
    return {k for key, sub in props.items() for k in _leaf_keys(sub, f"{prefix}{key}.")}


def _dotted(config: dict, key: str) -> object:
    for part in key.split("."):
        config = config[part]
    return config


def test_own_app_config_table_gives_the_shipped_values() -> None:
    """docs/own-app.md's `shipped value` column is genai-obs.yaml's value of each key (`this
    repository's X`: a URL ending in X), and the table has a row for every key of the schema."""
    doc = (ROOT / "docs" / "own-app.md").read_text()
    section = doc.split("## The configuration file", 1)[1].split("\n## ", 1)[0]
    shipped = yaml.safe_load((ROOT / "genai-obs.yaml").read_text())
    documented: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        keys_cell, value_cell = re.split(r"(?<!\\)\|", line.strip("|"))[:2]
        keys = re.findall(r"`([\w.<>]+)`", keys_cell)
        values = [v.replace("\\|", "|") for v in re.findall(r"`([^`]*)`", value_cell)]
        documented.update(keys)
        if keys == ["profiles.<name>.for.<alert>"]:
            assert values == list(shipped["profiles"])
        elif value_cell.strip().startswith("this repository's"):
            assert [str(_dotted(shipped, keys[0])).endswith(values[0])] == [True], keys
        else:
            assert [yaml.safe_load(v) for v in values] == [_dotted(shipped, k) for k in keys]
    assert len(documented) > 15, "docs/own-app.md: the configuration table moved"
    schema = json.loads((ROOT / "genobs" / "genai-obs.schema.json").read_text())
    leaves = {k for k in _leaf_keys(schema) if k != "version" and not k.startswith("profiles")}
    assert leaves <= documented, f"keys without a row: {sorted(leaves - documented)}"


def test_production_warns_of_the_slo_labels_external_labels_do_not_replace() -> None:
    """Every SLO alert and series carries slo/slos.yaml's extra labels (team: genai). Prometheus
    adds an external label only where the alert has none (measured: an alert labelled
    team=genai under external_labels team=payments reaches Alertmanager as team=genai), so a
    team routing on it must change them in slos.yaml: docs/production.md's checklist says so."""
    section = (ROOT / "docs" / "production.md").read_text().split("### Before you export", 1)[1]
    section = section.split("\n## ", 1)[0]
    pairs = {f"{k}: {v}" for slo in load_spec().slos for k, v in slo.labels.items()}
    assert pairs, "slo/slos.yaml has no extra labels: drop this test"
    assert "external_labels" in section
    for pair in pairs:
        assert f"`{pair}`" in section, pair


def env_example() -> dict[str, str]:
    """`.env.example`'s variables and values, in file order."""
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", text, re.M))


def env_table_rows(doc: str, heading: str) -> list[tuple[list[str], list[str]]]:
    """(variables, defaults) of each row of the `variable | default | meaning` table under
    `heading`. `A` … `B` names every .env.example variable from A to B; a default cell lists
    its values as the names are listed (`x` / `y`, `x, y`): a backticked literal, a bare number,
    `empty` (""), or None for prose (random, "the three demo keys")."""
    section = doc.split(heading + "\n", 1)[1].split("\n#", 1)[0]
    order = list(env_example())
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        names_cell, default_cell = (c.strip() for c in line.strip("|").split(" | ")[:2])
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", names_cell)
        if "…" in names_cell and len(names) == 2:
            names = order[order.index(names[0]) : order.index(names[1]) + 1]
        parts = re.split(r" / |, ", default_cell)
        defaults = [
            p.strip("`") if re.fullmatch(r"`[^`]*`|\d+", p) else "" if p == "empty" else None
            for p in parts
        ]
        rows.append((names, defaults if len(defaults) == len(names) else [None] * len(names)))
    return rows


@pytest.mark.parametrize(
    "doc, heading",
    [("README.md", "## Configuration"), ("docs/stack.md", "## Configuration (`.env`)")],
)
def test_env_tables_are_env_example(doc: str, heading: str) -> None:
    """The `.env` tables name every variable of .env.example, nothing else, with its value there
    (generated secrets aside: the example leaves them empty)."""
    rows = env_table_rows((ROOT / doc).read_text(), heading)
    example = env_example()
    listed = [name for names, _ in rows for name in names]
    assert sorted(listed) == sorted(example), f"{doc}: the .env table is not .env.example's"
    compared = [
        (name, default, example[name])
        for names, defaults in rows
        for name, default in zip(names, defaults, strict=True)
        if default is not None
    ]
    assert len(compared) > 10, f"{doc}: the scanner read no defaults"
    assert [(n, d) for n, d, _ in compared] == [(n, e) for n, _, e in compared]


def test_the_env_table_scanner_reads_ranges_and_pairs() -> None:
    doc = (
        "## Configuration\n| variable | default | meaning |\n|---|---|---|\n"
        "| `GRAFANA_PORT` … `PROMETHEUS_PORT` | 3000, 9090 | ports |\n"
        "| `LLM_PROVIDER` / `LLM_DEFAULT_MODEL` | `simulated` / empty | x |\n"
        "| `ADMIN_TOKEN` | random | x |\n## Next\n| `LOG_LEVEL` | `info` | x |\n"
    )
    assert env_table_rows(doc, "## Configuration") == [
        (["GRAFANA_PORT", "PROMETHEUS_PORT"], ["3000", "9090"]),
        (["LLM_PROVIDER", "LLM_DEFAULT_MODEL"], ["simulated", ""]),
        (["ADMIN_TOKEN"], [None]),
    ]
