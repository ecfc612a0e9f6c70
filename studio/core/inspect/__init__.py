"""Looking inside a model: summary, kernels, activations, Grad-CAM, predictions, receptive fields.

Every function takes a model and plain inputs and returns numpy arrays or dataclasses; hooks are
removed and train/eval flags restored before returning, so the GUI, the CLI and the tests can
inspect a model without changing it.

- pipeline: files -> decode -> network input -> run -> top-k, explain, attack, activations: the one
  path the CLI and every tab take (it takes any loaded-model-like object; this package imports
  neither runs, data nor models)
- formulas: the output-size formula and receptive-field text, written out with a layer's numbers
"""
