"""Shared test setup: Qt runs headless, per-user folders go to temporary directories."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_user_folders(tmp_path, monkeypatch):
    """No test reads or writes the real per-user folders (runs, data, weights, settings)."""
    monkeypatch.setenv("CNN_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CNN_STUDIO_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("CNN_STUDIO_SETTINGS_DIR", str(tmp_path / "settings"))
    yield
