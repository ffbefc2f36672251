"""Write a built tree atomically: into a temporary sibling directory, then swapped in whole.

An export that fails leaves the previous dist/ exactly as it was. dist/ is replaced, never
merged, so the exporter refuses a non-empty directory it did not write (it carries MARKER).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from export.errors import ExportError

MARKER = ".genai-obs-export"
_MARKER_TEXT = "Written by `python -m export`; the whole directory is replaced on each export.\n"


def check_target(out: Path) -> None:
    """ExportError unless `out` can be replaced by an export (checked before building)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ExportError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ExportError(
            f"--out {out}: a non-empty directory not written by the exporter (no {MARKER});"
            " refusing to replace it — choose an empty or new directory"
        )
    if not out.parent.is_dir():
        raise ExportError(f"--out {out}: parent directory {out.parent} does not exist")


def replace_tree(out: Path, files: dict[str, str]) -> None:
    """Make `out` hold exactly `files` (relative path → text), or leave it untouched."""
    check_target(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    moved = False
    try:
        for rel, text in {**files, MARKER: _MARKER_TEXT}.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        tmp.chmod(0o755)  # mkdtemp makes 0700; dist/ is meant to be read and copied
        if out.exists():
            out.rename(old)
            moved = True
        tmp.rename(out)  # two renames: the gap without `out` lasts one system call
    except BaseException:
        if moved and not out.exists():
            old.rename(out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def stale(out: Path, files: dict[str, str]) -> list[str]:
    """Paths under `out` that differ from `files` (missing, changed or extra)."""
    have = {
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MARKER
    }
    changed = [rel for rel, text in files.items() if _read(out / rel) != text]
    return sorted(changed + [f"{rel} (not exported)" for rel in have - set(files)])


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
