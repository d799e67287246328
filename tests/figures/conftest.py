"""What every figure test needs: a backend without a window, and every pyplot figure
closed after each test (builders that draw on pyplot would otherwise pile them up)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
