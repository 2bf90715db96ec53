"""The engine package's public face (its cores' purity is an import-linter contract)."""

from __future__ import annotations

import actors.engine


def test_public_names_are_exported() -> None:
    for name in actors.engine.__all__:
        assert hasattr(actors.engine, name), name
