"""The Qt-free core: data, models, training engine, run folders and inspection.

Nothing under studio.core may import Qt; the GUI, the CLI and the tests all drive it.
"""
