"""The Lab sections the lectures' tours added: tensor basics, multichannel convolution at any size,
and the LoG kernel's values. One call registers them with the Lab tab, so the tab's own module
changes by one line."""

from __future__ import annotations

from PySide6.QtWidgets import QSizePolicy

SECTIONS = (("tensors", "Tensors && shapes"), ("multichannel", "Multichannel conv"),
            ("log_values", "LoG kernel values"))


def add_lecture_sections(lab) -> None:
    """Add the sections to `lab` (a LabTab) as attributes and sub-tabs; lab.show_section(key) finds them."""
    from studio.gui.tabs.lab.log_values import LogValuesSection
    from studio.gui.tabs.lab.multichannel import MultichannelSection
    from studio.gui.tabs.lab.tensors import TensorsSection

    for (key, title), cls in zip(SECTIONS, (TensorsSection, MultichannelSection, LogValuesSection)):
        section = cls()
        # Hidden sections ignore their size hints (see LabTab._size_to_current).
        section.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        setattr(lab, key, section)
        lab.tabs.addTab(section, title)
