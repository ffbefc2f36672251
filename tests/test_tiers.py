"""`make check` runs only tests that start no process, and says so when one does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

SPAWNS = "import subprocess\n\ndef test_spawns():\n    subprocess.run(['true'], check=True)\n"
PURE = "def test_pure():\n    assert 1 + 1 == 2\n"


def _run_check_tier(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "test_spawns.py").write_text(SPAWNS)
    (tests / "test_pure.py").write_text(PURE)
    env = {**os.environ, "CHECK_TIER": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not external",
         str(tests)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_an_unlisted_module_that_starts_a_process_fails_the_check_tier(tmp_path: Path) -> None:
    result = _run_check_tier(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed" in result.stdout, result.stdout
    assert "add its module to EXTERNAL in tests/conftest.py" in result.stdout
