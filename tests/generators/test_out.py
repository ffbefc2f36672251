"""`python -m generators --out` where nothing can be written: exit 2 naming the path, no
traceback (it used to end in FileNotFoundError / NotADirectoryError)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT


def _generate(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generators", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_out_that_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "a-file"
    out.write_text("keep me\n")
    res = _generate(out)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr == f"error: --out {out}: not a directory\n"
    assert out.read_text() == "keep me\n"


@pytest.mark.parametrize("where", ["/proc/genobs-nope"])
def test_out_where_nothing_can_be_written(where: str) -> None:
    res = _generate(Path(where))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.startswith(f"error: writing {where}"), res.stderr
