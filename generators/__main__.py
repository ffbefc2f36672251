"""`python -m generators`: regenerate every generated file (rules, dashboards, their docs).

    python -m generators [--config PATH] [--profile NAME] [--out DIR] [--check]

--out DIR writes the same repo-relative paths under DIR (default: the repository).
--check writes nothing and exits 1 listing the files under DIR that differ from a fresh run.
Bad input (config, SLO spec, thresholds) exits 2 with `file:line: field 'x': reason`, and
nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from genai_telemetry.pricing import PriceTableError
from generators import owned_globs, render
from genobs.config import ROOT
from genobs.yamlspec import SpecError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generators", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config", type=Path, help="configuration file (default genai-obs.yaml)")
    parser.add_argument("--profile", help="profile of the configuration (default: its own)")
    parser.add_argument("--out", type=Path, default=ROOT, help="directory to write into")
    parser.add_argument("--check", action="store_true", help="exit 1 if generated files are stale")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        print(f"error: --out {args.out}: not a directory", file=sys.stderr)
        return 2
    try:
        files = render(args.config, args.profile)
    except (SpecError, PriceTableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out: Path = args.out
    obsolete = sorted(
        p for g in owned_globs() for p in out.glob(g) if p.relative_to(out).as_posix() not in files
    )
    if args.check:
        stale = [rel for rel, text in files.items() if _read(out / rel) != text]
        stale += [p.relative_to(out).as_posix() + " (obsolete)" for p in obsolete]
        if stale:
            print("stale generated files (run `make generate`):", file=sys.stderr)
            for rel in stale:
                print(f"  {rel}", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files are up to date")
        return 0
    try:
        written = _write(out, files, obsolete)
    except OSError as exc:
        print(f"error: writing {exc.filename or out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{len(files)} generated files, {written} changed")
    return 0


def _write(out: Path, files: dict[str, str], obsolete: list[Path]) -> int:
    """Each changed file replaced whole (a temporary beside it, then os.replace): a failure
    leaves every file either old or new, never cut short."""
    written = 0
    for rel, text in files.items():
        path = out / rel
        if _read(path) != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
            written += 1
            print(f"wrote {rel}")
    for path in obsolete:
        path.unlink()
        print(f"removed {path.relative_to(out).as_posix()}")
    return written


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
