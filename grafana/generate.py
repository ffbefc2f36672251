#!/usr/bin/env python3
"""Write grafana/dashboards/*.json from the generator in grafana/dashgen/.

    python grafana/generate.py          # (re)write the dashboards  (make dashboards)
    python grafana/generate.py --check  # exit 1 if a committed dashboard differs (tests use it)

Names, thresholds and units live in the generator (metric names come from demo_app.semconv), so
edit the Python, never the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from dashgen import cost, overview, rag, slos, stack, traces

OUT = Path(__file__).resolve().parent / "dashboards"
BUILDERS: dict[str, Callable[[], dict]] = {
    "llm-overview": overview.build,
    "llm-cost": cost.build,
    "llm-slos": slos.build,
    "rag-pipeline": rag.build,
    "llm-traces": traces.build,
    "stack-health": stack.build,
}


def render() -> dict[str, str]:
    """File name → JSON text for every dashboard."""
    out = {}
    for uid, build in BUILDERS.items():
        dashboard = build()
        if dashboard["uid"] != uid:
            raise SystemExit(f"builder for {uid} produced uid {dashboard['uid']}")
        out[f"{uid}.json"] = json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the JSON files are stale")
    parser.add_argument("--out", type=Path, default=OUT, help="output directory")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (args.out / name).is_file() or (args.out / name).read_text() != text
        ]
        extra = sorted(p.name for p in args.out.glob("*.json") if p.name not in files)
        for name in stale:
            print(f"{args.out / name}: stale, run `python grafana/generate.py`", file=sys.stderr)
        for name in extra:
            print(f"{args.out / name}: not produced by the generator", file=sys.stderr)
        return 1 if stale or extra else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text)
    print(f"wrote {len(files)} dashboards to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
