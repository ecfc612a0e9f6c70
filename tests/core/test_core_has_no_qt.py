import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_core_module_pulls_in_no_qt():
    code = (
        "import importlib, pkgutil, sys, studio.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'studio.core.'): importlib.import_module(m.name)\n"
        "import studio.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
