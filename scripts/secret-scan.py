#!/usr/bin/env python3
"""Secret scan for the repository (run by `make lint` via scripts/lint-extra.sh).

Scans every file git would commit (tracked + untracked-but-not-ignored) for credentials:
provider API keys, cloud keys, private keys, JWTs, passwords in URLs and high-entropy values
assigned to secret-looking names. Prints `path:line: kind` per finding and exits 1 if any.

    scripts/secret-scan.py                # the whole repository
    scripts/secret-scan.py FILE...        # only these files
    scripts/secret-scan.py --root DIR     # another git work tree

Obvious fakes pass: placeholder words ("example", "changeme", "your", ...) and typed-in runs such
as "abcdef" or "12345" (a real random key practically never contains one). Any other deliberate
fake (a redaction test's fixture, say) is allowed by putting `secret-scan: allow` on the same
line, with the reason next to it. Keep such lines few: each is a reviewed exception.
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ALLOW_PRAGMA = "secret-scan: allow"
MAX_BYTES = 2_000_000  # larger files are data, not config; git LFS pointers are tiny anyway

# Formats with a recognisable shape: a match is a finding without further guessing.
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("aws access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{60,})")),
    ("llm provider api key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}")),
    ("slack token", re.compile(r"\bxox[abeprs]-[A-Za-z0-9-]{10,}")),
    ("google api key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("stripe live key", re.compile(r"\b[rs]k_live_[0-9A-Za-z]{20,}")),
    ("huggingface token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)
# user:password@host in a URL.
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^/\s:@'\"]+)@")
# NAME = "value" / NAME: value / NAME=value, where NAME looks like it holds a secret.
ASSIGNMENT = re.compile(
    r"(?i)\b[\w.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|credential)[\w.-]*"
    r"[\"']?\s*(?::|=|:=)\s*[\"']?([A-Za-z0-9+/_=.~-]{12,})"
)
PLACEHOLDER_WORDS = (
    "example",
    "changeme",
    "change-me",
    "change_me",
    "placeholder",
    "redacted",
    "dummy",
    "fake",
    "xxxx",
    "your",
    "sample",
)
SECRET_FILE_NAMES = re.compile(
    r"(?:^|/)(?:\.env|id_rsa|id_ed25519|id_ecdsa|[^/]*\.(?:pem|key|p12))$"
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def has_sequential_run(value: str, length: int = 5) -> bool:
    """ "abcde", "12345": test fixtures type these; a random key holds such a run with
    probability ~1e-6."""
    run = 1
    for prev, cur in itertools.pairwise(value):
        run = run + 1 if cur.isalnum() and ord(cur) == ord(prev) + 1 else 1
        if run >= length:
            return True
    return False


def is_placeholder(value: str) -> bool:
    """Obvious fakes: placeholder words (AWS's documented AKIA...EXAMPLE key included) or a
    typed-in ascending run."""
    lowered = value.lower()
    return any(word in lowered for word in PLACEHOLDER_WORDS) or has_sequential_run(value)


def looks_random(value: str) -> bool:
    """A credential-like literal: letters AND digits, high entropy, not a placeholder.

    Values that say they are for tests ("test-admin-token-0123") count as placeholders here,
    but not in the provider-key formats above: a real key never needs to look like a test one.
    """
    if is_placeholder(value) or "test" in value.lower():
        return False
    # Made of words: "e2e-admin-token", "local_dev.secret_v2" (each part letters or short).
    if all(part.isalpha() or len(part) <= 3 for part in re.split(r"[-_.~]", value)):
        return False
    if not (re.search(r"[A-Za-z]", value) and re.search(r"\d", value)):
        return False
    return entropy(value) >= 3.0


def scan_text(path: str, text: str) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), start=1):
        if ALLOW_PRAGMA in line:
            continue
        for kind, pattern in TOKEN_PATTERNS:
            if any(not is_placeholder(m.group(0)) for m in pattern.finditer(line)):
                yield Finding(path, number, kind)
        for m in URL_CREDENTIALS.finditer(line):
            password = m.group(1)
            if not password.startswith(("$", "<", "{", "%")) and not is_placeholder(password):
                yield Finding(path, number, "password in url")
        for m in ASSIGNMENT.finditer(line):
            if looks_random(m.group(1)):
                yield Finding(path, number, "high-entropy value assigned to a secret name")


def scan_file(root: Path, rel: str) -> list[Finding]:
    findings: list[Finding] = []
    if SECRET_FILE_NAMES.search(rel):
        findings.append(Finding(rel, 0, "credential file committed (keep it out of git)"))
    path = root / rel
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return findings
        data = path.read_bytes()
    except OSError:
        return findings
    if b"\0" in data[:8192]:
        return findings  # binary
    findings.extend(scan_text(rel, data.decode("utf-8", errors="replace")))
    return findings


def repository_files(root: Path) -> list[str]:
    """What git would commit: tracked files plus untracked files that are not ignored."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    return sorted({p for p in out.decode().split("\0") if p})


def scan(root: Path, files: Iterable[str]) -> list[Finding]:
    findings: list[Finding] = []
    for rel in files:
        findings.extend(scan_file(root, rel))
    return findings


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)  # outside the root: `root / abs` is `abs`, so it still scans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="files to scan (default: the whole repository)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    # A scanner must not pass what it did not read: a named path that is no file, or a root that
    # is no git checkout, is a usage error, not "no secrets found".
    unread = [f for f in args.files if not Path(f).is_file()]
    if unread:
        print(f"secret-scan: not a file: {', '.join(unread)}", file=sys.stderr)
        return 2
    if args.files:
        files = [_relative(Path(f).resolve(), root) for f in args.files]
    else:
        try:
            files = repository_files(root)
        except (OSError, subprocess.CalledProcessError):
            print(f"secret-scan: --root {root}: not a git checkout", file=sys.stderr)
            return 2
    findings = scan(root, files)
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"secret-scan: {len(findings)} finding(s). Remove the secret (rotate it if it was "
            f"real), or mark a deliberate fake with '{ALLOW_PRAGMA}' and a reason.",
            file=sys.stderr,
        )
        return 1
    print(f"secret-scan: {len(files)} files, no secrets found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
