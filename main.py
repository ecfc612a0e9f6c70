#!/usr/bin/env python3
"""CNN Studio: double-click this file (or run `python main.py`) to open the studio.

It works from any working directory: the checkout this file lives in is put on sys.path, so
the `studio` package is found without installing anything.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studio.gui.app import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run())
