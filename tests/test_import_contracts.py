"""The architecture's boundaries hold: every import-linter contract in pyproject.toml is kept
(the core imports no Qt; data, models and inspect are independent; the engine sits above data and
models; models never import runs). CI also runs `lint-imports` itself."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def test_every_import_contract_is_kept():
    # This checkout's studio/, whatever is installed; no cache written into the checkout.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", LINT_IMPORTS, "--no-cache"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " broken" in done.stdout and "0 broken" in done.stdout
