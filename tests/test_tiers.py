"""`make check` runs only tests that start no process, and says so when one does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness import ROOT

SPAWNS = "import subprocess\n\ndef test_spawns():\n    subprocess.run(['true'], check=True)\n"
PURE = "def test_pure():\n    assert 1 + 1 == 2\n"
NEEDS_TOOL = (
    "from harness import require_binary\n\n"
    "def test_needs_tool():\n    require_binary('no-such-tool-for-genai-obs')\n"
)


def _pytest(
    tmp_path: Path, modules: dict[str, str], **env: str
) -> subprocess.CompletedProcess[str]:
    """Run pytest on throw-away test modules under a copy of tests/conftest.py."""
    tests = tmp_path / "tests"
    tests.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    for name, text in modules.items():
        (tests / name).write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not external",
         str(tests)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_an_unlisted_module_that_starts_a_process_fails_the_check_tier(tmp_path: Path) -> None:
    modules = {"test_spawns.py": SPAWNS, "test_pure.py": PURE}
    result = _pytest(tmp_path, modules, CHECK_TIER="1")
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed" in result.stdout, result.stdout
    assert "add its module to EXTERNAL in tests/conftest.py" in result.stdout


def test_a_missing_tool_skips_locally_and_fails_in_ci(tmp_path: Path) -> None:
    local = _pytest(tmp_path / "local", {"test_tool.py": NEEDS_TOOL}, CI="")
    assert "1 skipped" in local.stdout, local.stdout
    ci = _pytest(tmp_path / "ci", {"test_tool.py": NEEDS_TOOL}, CI="true")
    assert ci.returncode == 1 and "1 failed" in ci.stdout, ci.stdout
    assert "no-such-tool-for-genai-obs not found on PATH" in ci.stdout
