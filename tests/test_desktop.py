"""The desktop entry `cnn-studio install-desktop` writes: its keys, its icons, desktop-file-validate."""

import configparser
import shutil
import subprocess

import pytest

from studio.core import paths
from studio.desktop import ICON_SIZES, desktop_entry_text, install_desktop_entry

MAIN_CATEGORIES = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics", "Network",
                   "Office", "Science", "Settings", "System", "Utility"}


def _entry(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


def test_the_entry_has_the_keys_a_menu_needs():
    entry = _entry(desktop_entry_text())
    assert entry["Type"] == "Application" and entry["Version"] == "1.4" and entry["Name"] == "CNN Studio"
    assert entry["Icon"] == "cnn-studio" and entry["Terminal"] == "false" and entry["Exec"]
    categories = [c for c in entry["Categories"].split(";") if c]
    assert len(MAIN_CATEGORIES.intersection(categories)) == 1   # listed once in the menu
    assert entry["Keywords"].endswith(";") and entry["Categories"].endswith(";")


def test_install_copies_every_icon_from_the_bundled_resources(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = install_desktop_entry()
    assert path == tmp_path / "applications" / "cnn-studio.desktop"
    for size in ICON_SIZES:
        icon = tmp_path / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "cnn-studio.png"
        assert icon.read_bytes() == (paths.RESOURCES / "icons" / f"cnn-studio-{size}.png").read_bytes()
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "cnn-studio.svg").is_file()


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
@pytest.mark.parametrize("which", ["installed", "bundled"])
def test_desktop_file_validate_accepts_the_entries(tmp_path, which):
    path = install_desktop_entry(tmp_path) if which == "installed" else paths.RESOURCES / "cnn-studio.desktop"
    out = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout
