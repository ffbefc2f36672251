"""`python -m slo`: regenerate prometheus/rules/*.yml and docs/alerts.md.

Sources: slo/slos.yaml, slo/thresholds.yaml and demo_app/data/prices.yaml (llm-prices.yml).

    python -m slo            write the files
    python -m slo --check    exit 1 (listing them) when committed files differ from a fresh run

A bad spec or price table exits 2 with `file:line: ...: reason` and no stack trace.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from demo_app.pricing import PriceTableError
from slo import generate_all
from slo.spec import SPEC_PATH, THRESHOLDS_PATH, SpecError

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slo", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="SLO spec (slo/slos.yaml)")
    parser.add_argument(
        "--thresholds", type=Path, default=THRESHOLDS_PATH, help="alert thresholds file"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root to write into")
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args(argv)
    try:
        files, stale_globs = generate_all(args.spec, args.thresholds)
    except (SpecError, PriceTableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    root: Path = args.root
    obsolete = sorted(
        p for g in stale_globs for p in root.glob(g) if p.relative_to(root).as_posix() not in files
    )
    if args.check:
        stale = [rel for rel, text in files.items() if _read(root / rel) != text]
        stale += [p.relative_to(root).as_posix() + " (obsolete)" for p in obsolete]
        if stale:
            print("stale generated files (run `make rules`):", file=sys.stderr)
            for rel in stale:
                print(f"  {rel}", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files are up to date")
        return 0
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if _read(path) != text:
            path.write_text(text)
            print(f"wrote {rel}")
    for path in obsolete:
        path.unlink()
        print(f"removed {path.relative_to(root).as_posix()}")
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
