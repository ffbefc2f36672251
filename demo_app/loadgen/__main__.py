"""CLI: `python -m demo_app.loadgen list | run <scenario> [options]`.

    python -m demo_app.loadgen list
    python -m demo_app.loadgen docs      # regenerate the scenario table in docs/scenarios.md
    python -m demo_app.loadgen run steady --rate 8 --duration 120
    python -m demo_app.loadgen run error-burst --host http://127.0.0.1:8000
    python -m demo_app.loadgen run my-incident --scenarios my-scenarios.yaml

Exit codes: 0 done (however many requests failed: incidents are made of them), 1 the load
generator itself failed (Locust crashed or its users raised), 2 usage or environment problem
(message says what to fix), 130 interrupted. Faults are cleared in every case.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from demo_app.config import ConfigError, parse_api_keys
from demo_app.loadgen.runner import (
    DEFAULT_HOST,
    EXIT_TRAFFIC_FAILED,
    EXIT_USAGE,
    LoadgenError,
    TrafficError,
    run_scenario,
)
from demo_app.loadgen.scenarios import (
    MAX_RATE,
    SCENARIOS_FILE,
    ScenarioError,
    UnknownScenarioError,
    load_scenarios,
)
from demo_app.loadgen.settings import resolve_admin_token, resolve_setting
from demo_app.loadgen.yamllines import shown


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    # inf passes `> 0` but no sender can pace it (a loop that never yields) or end it.
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _rate(text: str) -> float:
    value = _positive(text)
    if value > MAX_RATE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_RATE:g} per second, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m demo_app.loadgen",
        description="Demo load and incident scenarios for rag-api (Locust, headless).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list the scenarios with one-line descriptions")
    sub.add_parser("docs", help="regenerate the scenario table in docs/scenarios.md")
    run = sub.add_parser("run", help="run one scenario against a running rag-api")
    for p in (listing, run):
        p.add_argument(
            "--scenarios",
            type=Path,
            default=SCENARIOS_FILE,
            metavar="PATH",
            help=f"scenario file (default: the shipped {SCENARIOS_FILE.name})",
        )
    run.add_argument("scenario", nargs="?", help="scenario name (see `list`)")
    run.add_argument("--host", default=DEFAULT_HOST, help=f"rag-api base URL ({DEFAULT_HOST})")
    run.add_argument("--rate", type=_rate, help="base requests per second (scenario default)")
    run.add_argument(
        "--duration", type=_positive, help="total seconds; phases keep their proportions"
    )
    run.add_argument(
        "--admin-token",
        help="rag-api ADMIN_TOKEN (default: $ADMIN_TOKEN, then ADMIN_TOKEN in .env)",
    )
    run.add_argument(
        "--driver",
        choices=("locust", "builtin"),
        default="locust",
        help="traffic driver: Locust subprocess (default) or the light in-process asyncio driver",
    )
    run.add_argument("--seed", type=int, help="seed of the request mix (reproducible runs)")
    return parser


def _list(path: Path) -> int:
    scenarios = load_scenarios(path)
    width = max(len(n) for n in scenarios.names())
    print(f"Scenarios ({shown(path)}):")
    for s in scenarios.scenarios.values():
        print(f"  {s.name:<{width}}  {s.description}")
    if path == SCENARIOS_FILE:
        how = "make incident SCENARIO=<name>  (or python -m demo_app.loadgen run <name>)"
    else:
        how = f"python -m demo_app.loadgen run <name> --scenarios {path}"
    print(f"\nRun one: {how}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args.scenarios)
        if args.command == "docs":
            from demo_app.loadgen.docs import DOCS_FILE, TABLE, scenario_table, write_section

            write_section(TABLE, scenario_table(load_scenarios()))
            print(f"wrote {DOCS_FILE}")
            return 0
        scenarios = load_scenarios(args.scenarios)
        if not args.scenario:  # e.g. `make incident` without SCENARIO=
            raise LoadgenError(
                "name a scenario (make incident SCENARIO=<name>); valid scenarios: "
                + ", ".join(scenarios.names())
            )
        scenario = scenarios.get(args.scenario)
        # The tier of each request comes from its API key: send the keys rag-api was given.
        api_keys = resolve_setting("API_KEYS")
        if api_keys:
            parse_api_keys(api_keys)  # a bad value stops here, named, before any traffic
            os.environ["API_KEYS"] = api_keys
        if args.rate is not None or args.duration is not None:
            scenario = scenario.scaled(rate=args.rate, duration=args.duration)
        return run_scenario(
            scenario,
            host=args.host,
            admin_token=resolve_admin_token(args.admin_token),
            driver=args.driver,
            seed=args.seed,
            out=lambda line: print(line, flush=True),
        )
    except (ScenarioError, UnknownScenarioError, LoadgenError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TrafficError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TRAFFIC_FAILED


if __name__ == "__main__":
    sys.exit(main())
