"""The shell commands README.md and docs/**/*.md show in code can be run as written: each
`python -m X` names a module with a `__main__` path, each `curl` a URL curl accepts."""

from __future__ import annotations

import importlib.util
import re

import pytest

from tests.test_docs import DOCS, FENCE, INLINE_CODE

CODE_DOCS = {d: [m.group(0) for m in FENCE.finditer(d.read_text())] for d in DOCS}
for _doc, _code in CODE_DOCS.items():
    _code += INLINE_CODE.findall(FENCE.sub("", _doc.read_text()))


def commands(program: str) -> list[tuple[str, str]]:
    """(doc, command line) of every line of code that runs `program`."""
    found = []
    for doc, chunks in CODE_DOCS.items():
        for chunk in chunks:
            for line in chunk.splitlines():
                for m in re.finditer(rf"(?:^|[\s(;|&]){re.escape(program)}\s[^|;&#]*", line):
                    found.append((doc.name, m.group(0).strip(" (")))
    return found


MODULES = sorted({re.split(r"\s+", c)[2].rstrip(").,") for _, c in commands("python -m")})
# curl requests: the command lines with a path or URL (not `curl -u user:password` quoted as text
# the redaction masks).
CURLS = [(d, c) for d, c in commands("curl") if any("/" in a for a in c.split()[1:])]


def test_the_scanners_find_commands() -> None:
    assert {"generators", "export", "demo_app.loadgen", "bench"} <= set(MODULES)
    assert len(CURLS) >= 4


@pytest.mark.parametrize("module", MODULES)
def test_python_m_names_a_runnable_module(module: str) -> None:
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"`python -m {module}`: no such module"
    if spec.submodule_search_locations is not None:  # a package runs its __main__
        assert importlib.util.find_spec(f"{module}.__main__"), f"{module} has no __main__"


@pytest.mark.parametrize(("doc", "command"), CURLS)
def test_curl_urls_have_a_scheme_and_host(doc: str, command: str) -> None:
    """curl refuses a URL without a host (`curl -X POST :9090/-/reload`: "URL using bad/illegal
    format"); a `<placeholder>` stands for one."""
    urls = [a for a in command.split()[1:] if "/" in a and not a.startswith("-")]
    bad = [u for u in urls if not re.match(r"(https?://[\w.\[\]-]+|https?://<|<[^>]+>)", u)]
    assert not bad, f"{doc}: `{command}`: not a URL curl accepts: {bad}"
