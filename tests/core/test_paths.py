"""Bundled resources and demo models: found in a checkout, and shipped in the wheel (pyproject's package-data)."""

import fnmatch
import zipfile
from pathlib import Path

import pytest

from studio.core import paths

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[2]


def _package_data() -> dict[str, list[str]]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]


def test_a_checkout_reads_its_top_level_folders():
    assert paths.RESOURCES == REPO / "resources" and paths.DEMO_MODELS == REPO / "models"
    assert (paths.RESOURCES / "icons" / "cnn-studio.svg").is_file()


def test_every_bundled_file_is_shipped_by_package_data():
    data = _package_data()
    folders = {"studio._resources": REPO / "resources", "studio._models": REPO / "models"}
    missed = []
    for top, folder in folders.items():
        for file in folder.rglob("*"):
            if not file.is_file() or "__pycache__" in file.parts:
                continue
            rel = file.relative_to(folder)
            package = ".".join([top, *rel.parts[:-1]])
            if not any(fnmatch.fnmatch(rel.name, pattern) for pattern in data.get(package, [])):
                missed.append(str(rel))
    assert missed == []


def test_every_declared_file_exists():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    for name in project["license-files"] + [project["readme"]]:
        assert (REPO / name).is_file(), name
    assert "MIT License" in (REPO / "LICENSE").read_text()


def test_a_zipped_install_is_extracted_to_real_files(tmp_path):
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("studio/_resources/icons/a.png", b"png")
        zf.writestr("studio/_resources/data/b.npz", b"npz")
    folder = paths._extract(zipfile.Path(archive, "studio/_resources/"))
    assert (folder / "icons" / "a.png").read_bytes() == b"png" and (folder / "data" / "b.npz").is_file()
