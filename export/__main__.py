"""`python -m export` (make export): the artifacts in the formats production runs, under dist/.

    python -m export [--profile NAME] [--config PATH] [--out DIR] [--target T ...]
                     [--namespace NS] [--label KEY=VALUE ...] [--no-label]
                     [--folder-annotation KEY] [--check]

Bad input exits 2 with a message naming the file, key or rule, and leaves DIR untouched.
--check writes nothing and exits 1 listing what differs under DIR from a fresh export.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from export import TARGETS
from export.build import Options, build
from export.errors import ExportError
from export.options import DEFAULT_OUT
from export.write import check_target, replace_tree, stale
from genobs.yamlspec import SpecError

_DEFAULTS = Options()


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def _labels(pairs: list[tuple[str, str]], p: argparse.ArgumentParser) -> dict[str, str]:
    keys = [k for k, _ in pairs]
    if twice := sorted({k for k in keys if keys.count(k) > 1}):
        p.error(f"--label {', '.join(twice)} given twice")
    return dict(pairs)


def _profile(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a profile of the config (e.g. production)")
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m export", description=__doc__.split("\n")[0])
    p.add_argument(
        "--profile", type=_profile, default=_DEFAULTS.profile, help="profile of the config"
    )
    p.add_argument("--config", type=Path, help="configuration file (default genai-obs.yaml)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory to (re)place")
    p.add_argument("--target", action="append", choices=TARGETS, help="only these (repeat)")
    p.add_argument("--namespace", default=_DEFAULTS.namespace, help="Kubernetes namespace")
    p.add_argument(
        "--label",
        action="append",
        type=_label,
        metavar="KEY=VALUE",
        help="label on every manifest, PrometheusRules and dashboard ConfigMaps"
        " (repeat; default release=kube-prometheus-stack)",
    )
    p.add_argument(
        "--no-label",
        action="store_true",
        help="none of them (the dashboard ConfigMaps keep the sidecar's grafana_dashboard)",
    )
    p.add_argument(
        "--folder-annotation",
        default=_DEFAULTS.folder_annotation,
        metavar="KEY",
        help="annotation naming the Grafana folder on the dashboard ConfigMaps (default"
        f" {_DEFAULTS.folder_annotation}, the sidecar's folderAnnotation; '' for none)",
    )
    p.add_argument("--check", action="store_true", help="exit 1 if --out differs from an export")
    return p


def parse_args(argv: list[str] | None) -> tuple[Options, Path, bool]:
    p = parser()
    a = p.parse_args(argv)
    labels = {} if a.no_label else _labels(a.label, p) if a.label else _DEFAULTS.labels
    options = Options(
        config=a.config,
        out=a.out,
        profile=a.profile,
        targets=tuple(a.target) if a.target else TARGETS,
        namespace=a.namespace,
        labels=labels,
        folder_annotation=a.folder_annotation,
    )
    return options, a.out, a.check


def main(argv: list[str] | None = None) -> int:
    options, out, check = parse_args(argv)
    try:
        if not check:
            check_target(out)  # before the (slow) render: fail fast on a bad --out
        files = build(options)
        if check:
            differ = stale(out, files)
            if differ:
                print(f"{out} differs from a fresh export (run `make export`):", file=sys.stderr)
                print("".join(f"  {rel}\n" for rel in differ), end="", file=sys.stderr)
                return 1
            print(f"{out}: {len(files)} exported files are up to date")
            return 0
        replace_tree(out, files)
    except (ExportError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: writing {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"exported {len(files)} files to {out} (profile {options.profile})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
