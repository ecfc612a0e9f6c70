"""Put CNN Studio in the desktop's application menu (freedesktop.org desktop entry).

`cnn-studio install-desktop` writes ~/.local/share/applications/cnn-studio.desktop (or under
$XDG_DATA_HOME) for the current user, pointing at the Python interpreter in use and at this
checkout's main.py, so the menu entry starts exactly this copy. No Qt here: the CLI calls it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from studio.core.paths import REPO_ROOT, RESOURCES

ENTRY_NAME = "cnn-studio.desktop"
ICON_NAME = "cnn-studio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def quote_exec_arg(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry spec asks (reserved characters, escapes)."""
    if arg and not any(ch in arg for ch in " \t\n\"'\\><~|&;$*?#()`="):
        return arg.replace("%", "%%")
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    # The whole value is a string type too, whose own escaping doubles backslashes once more.
    return '"' + escaped.replace("\\", "\\\\").replace("%", "%%") + '"'


def launch_command(python: str | None = None) -> list[str]:
    """The interpreter in use plus this checkout's main.py; `-m studio` when main.py is not there."""
    python = python or sys.executable
    main = REPO_ROOT / "main.py"
    return [python, str(main)] if main.is_file() else [python, "-m", "studio"]


def desktop_entry_text(command: list[str] | None = None, icon: str = ICON_NAME) -> str:
    command = command or launch_command()
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # the newest version desktop-file-validate (0.26/0.27) knows
        "Name=CNN Studio",
        "GenericName=Neural network trainer",
        "Comment=Train convolutional neural networks on images and watch them learn",
        "Exec=" + " ".join(quote_exec_arg(a) for a in command),
        f"Path={REPO_ROOT}" if (REPO_ROOT / "main.py").is_file() else "",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Education;ArtificialIntelligence;",  # one main category: listed once
        "Keywords=CNN;deep learning;PyTorch;neural network;MNIST;CIFAR;",
        "StartupNotify=true",
        "",
    ]).replace("\n\n", "\n")


def install_icons(data_home: Path | None = None) -> Path | None:
    """Copy the PNG and SVG icons into the user's hicolor theme; returns the SVG's path (None if absent)."""
    data_home = data_home or _data_home()
    source = RESOURCES / "icons"
    for size in ICON_SIZES:
        png = source / f"{ICON_NAME}-{size}.png"
        if png.is_file():
            target = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, target)
    svg = source / f"{ICON_NAME}.svg"
    if not svg.is_file():
        return None
    target = data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, target)
    return target


def install_desktop_entry(target_dir: str | os.PathLike | None = None) -> Path:
    """Write the desktop entry (and icons) for the current user; returns the .desktop file's path.

    target_dir: where the .desktop file goes (default $XDG_DATA_HOME/applications). With an
    explicit folder the icons are not installed in the theme: the entry names the SVG by path.
    """
    if target_dir is None:
        folder = _data_home() / "applications"
        install_icons()
        icon = ICON_NAME
    else:
        folder = Path(target_dir).expanduser()
        svg = RESOURCES / "icons" / f"{ICON_NAME}.svg"
        icon = str(svg) if svg.is_file() else ICON_NAME
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ENTRY_NAME
    tmp = path.with_name(f".{ENTRY_NAME}.tmp")
    tmp.write_text(desktop_entry_text(icon=icon), encoding="utf-8")
    os.chmod(tmp, 0o755)  # some desktops only trust executable entries
    os.replace(tmp, path)
    return path
