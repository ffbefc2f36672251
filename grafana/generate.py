#!/usr/bin/env python3
"""Write grafana/dashboards/*.json and docs/dashboards.md from the generator in grafana/dashgen/.

    python grafana/generate.py          # (re)write them  (make dashboards)
    python grafana/generate.py --check  # exit 1 if a committed file differs (tests use it)

Names, thresholds and units live in the generator (metric names come from demo_app.semconv), so
edit the Python, never the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from dashgen import cost, docs, overview, rag, slos, stack, traces

OUT = Path(__file__).resolve().parent / "dashboards"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "dashboards.md"
BUILDERS: dict[str, Callable[[], dict]] = {
    "llm-overview": overview.build,
    "llm-cost": cost.build,
    "llm-slos": slos.build,
    "rag-pipeline": rag.build,
    "llm-traces": traces.build,
    "stack-health": stack.build,
}


def render() -> tuple[dict[str, str], str]:
    """(file name → JSON text for every dashboard, docs/dashboards.md text)."""
    out = {}
    built = []
    for uid, build in BUILDERS.items():
        dashboard = build()
        if dashboard["uid"] != uid:
            raise SystemExit(f"builder for {uid} produced uid {dashboard['uid']}")
        out[f"{uid}.json"] = json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"
        built.append(dashboard)
    return out, docs.render(built)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the JSON files are stale")
    parser.add_argument("--out", type=Path, default=OUT, help="output directory")
    parser.add_argument(
        "--docs", type=Path, default=DOCS, help="markdown file for the panel list (- for none)"
    )
    args = parser.parse_args(argv)
    if str(args.docs) == "-":
        args.docs = None
    files, doc = render()
    if args.check:
        stale = [
            str(args.out / name)
            for name, text in files.items()
            if not (args.out / name).is_file() or (args.out / name).read_text() != text
        ]
        if args.docs is not None and (not args.docs.is_file() or args.docs.read_text() != doc):
            stale.append(str(args.docs))
        extra = sorted(p.name for p in args.out.glob("*.json") if p.name not in files)
        for path in stale:
            print(f"{path}: stale, run `python grafana/generate.py`", file=sys.stderr)
        for name in extra:
            print(f"{args.out / name}: not produced by the generator", file=sys.stderr)
        return 1 if stale or extra else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text)
    if args.docs is not None:
        args.docs.write_text(doc)
    print(
        f"wrote {len(files)} dashboards to {args.out}" + (f" and {args.docs}" if args.docs else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
