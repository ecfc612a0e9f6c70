"""File > Export model…: the dialog exports off the GUI thread and shows the file's own check."""

from studio.core.paths import DEMO_MODELS
from studio.gui.concurrency.tasks import run_task
from studio.gui.widgets.export_model_dialog import ExportModelDialog

DEMO = DEMO_MODELS / "lenet5-mnist-sample.pt"


def test_the_dialog_exports_and_reports_the_verification(qtbot, tmp_path):
    dialog = ExportModelDialog(DEMO, run_task)
    qtbot.addWidget(dialog)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("safetensors"))
    assert dialog.path_edit.text().endswith("lenet5-mnist-sample.safetensors")  # default: beside the checkpoint
    dialog.path_edit.setText(str(tmp_path / "demo.safetensors"))
    dialog.start_export()
    assert not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60_000)
    assert dialog.result.passed and (tmp_path / "demo.json").is_file()
    assert "Verified" in dialog.report.text() and "500 held-out test images of mnist-sample" in dialog.report.text()
    assert dialog.export_button.isEnabled()


def test_a_failed_export_is_said_in_the_dialog(qtbot, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    dialog = ExportModelDialog(bad, run_task)
    qtbot.addWidget(dialog)
    dialog.path_edit.setText(str(tmp_path / "out.onnx"))
    dialog.start_export()
    qtbot.waitUntil(lambda: "Export failed" in dialog.report.text(), timeout=60_000)
    assert "bad.pt" in dialog.report.text() and dialog.export_button.isEnabled()


def test_file_export_model_opens_on_the_current_run_or_the_demo_model(qtbot, run):
    from studio.gui.window import exports
    from studio.gui.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert "Export mo&del…" in [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert exports.model_to_export(window) == DEMO  # no run yet: the demo model
    run_dir = run[0]
    window.state.run_dir = run_dir
    assert exports.model_to_export(window) == run_dir / "checkpoints" / "best.pt"
    dialog = exports.model_dialog(window)
    assert dialog.checkpoint == run_dir / "checkpoints" / "best.pt" and dialog.isVisible()
    dialog.close()
    window.close()
