"""The convolution section's stepper: the sliding window walked one output position at a time.

Mixed into ConvSection (studio.gui.tabs.lab.conv), whose grids, labels and buttons it drives:
the input cells under the window get a frame, the products appear in their own grid, the sum
is written out and checked against F.conv1d / F.conv2d, and Play steps on a timer.
"""

from __future__ import annotations

import numpy as np

from studio.core.lab import conv as convlab
from studio.gui.widgets.heatmap_grid import SECONDARY


def _paren(text: str) -> str:
    """-1 -> (−1), so '4·(−1)' reads as a product."""
    return f"(−{text[1:]})" if text.startswith("-") else text


class StepperMixin:
    """Needs the section's _result, _w, _dims, _step, _timer, the grids, labels and buttons."""

    def _spatial_count(self) -> int:
        return int(np.prod(self._result.output.shape[1:])) if self._result is not None else 0

    def _show_step(self) -> None:
        r = self._result
        n = self._spatial_count()
        if r is None or n == 0:
            return
        self._step = max(0, min(self._step, n - 1))
        o = min(self.out_view_spin.value(), self._w.shape[0] - 1)
        step = convlab.step_at(r, o * n + self._step)
        ch = self._shown_input_channel()
        to_cell = (lambda t: (t[0], t[1])) if self._dims == 2 else (lambda t: (0, t[0]))
        self.input_grid.set_highlight([to_cell(t[1:]) for t in step.taps if t[0] == ch])
        self.output_grid.set_highlight([to_cell(step.out_pos[1:])], SECONDARY)
        products = np.zeros(r.weight_used.shape[2:])
        for t, kp, p in zip(step.taps, step.kernel_pos, step.products):
            if t[0] == ch:
                products[kp[1:]] = p
        self.products_grid.set_values(products if self._dims == 2 else products[None])
        torch_value = float(r.output[step.out_pos])
        self.equation_label.setText(self._equation_text(step) + f"\nF.conv{self._dims}d gives "
                                    f"{convlab.format_number(torch_value)}"
                                    + ("  ✓" if abs(torch_value - step.total) <= 1e-9 * max(1, abs(step.total))
                                       else "  ✗"))
        pos = ", ".join(str(i) for i in step.out_pos[1:])
        self.step_label.setText(f"output ({pos}): step {self._step + 1} of {n}")
        self.prev_button.setEnabled(self._step > 0)
        self.next_button.setEnabled(self._step < n - 1)

    def _equation_text(self, step) -> str:
        fmt = convlab.format_number
        by_channel: dict[int, list[str]] = {}
        for t, v, w in zip(step.taps, step.values, step.weights):
            by_channel.setdefault(t[0], []).append(f"{_paren(fmt(v))}·{_paren(fmt(w))}")
        if len(by_channel) == 1:
            terms = " + ".join(next(iter(by_channel.values())))
        else:
            terms = " + ".join(f"[ch {c}] " + " + ".join(ts) for c, ts in by_channel.items())
        return f"{terms} = {fmt(step.total)}"

    def go_to_step(self, index: int) -> None:
        n = self._spatial_count()
        if n == 0:
            return
        self._step = max(0, min(index, n - 1))
        self._show_step()

    def current_step(self) -> convlab.Step | None:
        if self._result is None:
            return None
        o = min(self.out_view_spin.value(), self._w.shape[0] - 1)
        return convlab.step_at(self._result, o * self._spatial_count() + self._step)

    def _on_play_toggled(self, on: bool) -> None:
        if on:
            if self._step >= self._spatial_count() - 1:
                self.go_to_step(0)
            self.play_button.setText("Pause")
            self._timer.start()
        else:
            self._stop_playing()

    def _on_play_tick(self) -> None:
        if self._step >= self._spatial_count() - 1:
            self._stop_playing()
            return
        self.go_to_step(self._step + 1)

    def _stop_playing(self) -> None:
        self._timer.stop()
        if self.play_button.isChecked():
            self.play_button.setChecked(False)
        self.play_button.setText("Play")

    def hideEvent(self, event) -> None:
        self._stop_playing()
        super().hideEvent(event)
