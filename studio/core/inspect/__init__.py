"""Looking inside a model: summary, kernels, activations, Grad-CAM, predictions, receptive fields.

Every function takes a model and plain inputs and returns numpy arrays or dataclasses; hooks are
removed and train/eval flags restored before returning, so the GUI, the CLI and the tests can
inspect a model without changing it.
"""
