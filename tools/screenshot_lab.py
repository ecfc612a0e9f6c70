"""Make docs/screenshots/lab_*.png: each section of the Lab tab rendered offscreen at 1200x760.

    python tools/screenshot_lab.py [OUT_DIR]
"""

import os
import sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pathlib import Path
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer, QEventLoop, QThreadPool
app = QApplication.instance() or QApplication([])
from studio.gui.tabs.lab.tab import LabTab
out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
out.mkdir(parents=True, exist_ok=True)
tab = LabTab()
tab.resize(1200, 760)
tab.show()

def pump(ms=300):
    loop = QEventLoop(); QTimer.singleShot(ms, loop.quit); loop.exec()

def shot(name):
    pump(200)
    tab.grab().save(str(out / f"lab_{name}.png"))
    print("saved", name)

tab.show_section("conv"); tab.conv.go_to_step(7); shot("conv_2d")
tab.conv.load_example("1d-pad2-stride2"); tab.conv.go_to_step(1); shot("conv_1d")
tab.conv.load_example("2d-seed001"); tab.conv.conv_radio.setChecked(True); tab.conv.go_to_step(0); shot("conv_convolution")
tab.show_section("photo")
ph = tab.photo
ph.load_sample("astronaut.png")
ph.preset_combo.setCurrentIndex(ph.preset_combo.findData("log"))
ph.sigma_slider.setValue(10)
for _ in range(100):
    pump(100)
    if not ph.is_busy(): break
ph.start_timing()
for _ in range(200):
    pump(100)
    if not ph.is_busy(): break
shot("photo")
tab.show_section("params"); shot("params")
tab.show_section("autograd"); tab.autograd.run_to_end(); shot("autograd")
tab.show_section("softmax"); shot("softmax")
tab.show_section("pool"); tab.pool.go_to_step(2); shot("pool")
tab.show_section("init"); shot("init")
tab.show_section("train")
for _ in range(300):
    pump(100)
    if tab.train.loop_result is not None and tab.train.forward_result is not None and not tab.train.is_busy(): break
shot("train")
QThreadPool.globalInstance().waitForDone(10000)
