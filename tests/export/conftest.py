"""One production and one demo export per session, written by the real CLI into temp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.exported import export


@pytest.fixture(scope="session")
def production(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(tmp_path_factory.mktemp("export") / "dist", "--profile", "production")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(tmp_path_factory.mktemp("export") / "dist", "--profile", "demo")
