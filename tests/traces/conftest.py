"""Paths of the hand-written pi session fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

PI = Path(__file__).resolve().parent.parent / "fixtures" / "pi"


@pytest.fixture
def pi_fixtures() -> Path:
    return PI
