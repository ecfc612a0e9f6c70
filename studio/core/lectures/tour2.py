"""Tour of seed 002: convolution vs correlation, padding, stride, dilation, architectures, 1D and 2D
correlation in PyTorch, parameter counting and the configurable PytorchCNN."""

from __future__ import annotations

from studio.core.lectures import values as v
from studio.core.lectures.tours import Check, Step, Tour
from studio.core.config.presets import lecture_title

SEED002_OPTIONS = {"conv_channels": [8, 16], "kernel_size": 3, "hidden_sizes": [32]}

TOUR = Tour(2, lecture_title("002"),
            "002_4c9e346cac70667f.txt", (
    Step("Convolution or correlation?",
         "Convolution flips the kernel before sliding it; correlation does not. PyTorch's Conv layers "
         "correlate, and since the kernel is learned the flip makes no difference to what a network can do. "
         "Toggle the flip in the Lab and watch the output change.",
         "Convolution vs. Correlation; Convolution in PyTorch",
         {"view": "lab", "section": "conv", "example": "2d-edge-valid", "flip": True}),
    Step("1D correlation with same, valid and strided padding",
         "A signal 1 … 9 against the kernel [2, 1, 2]: 'same' pads so the output keeps 9 values, 'valid' "
         "pads nothing and keeps 7, padding 2 with stride 2 skips every other position.",
         "Convolution in PyTorch, 1D Correlation (conv_1d_1, conv_1d_2, conv_1d_3)",
         {"view": "lab", "section": "conv", "example": "1d-same"},
         (Check("padding='same'", [5, 10, 15, 20, 25, 30, 35, 40, 25], lambda: v.correlation("1d-same")),
          Check("padding='valid'", [10, 15, 20, 25, 30, 35, 40], lambda: v.correlation("1d-valid")),
          Check("padding=2, stride=2", [2, 10, 20, 30, 40, 18], lambda: v.correlation("1d-pad2-stride2")))),
    Step("Padding: 'same' keeps the size",
         "'same' adds ⌈(k − 1)/2⌉ cells on each side so the output is as large as the input; 'valid' adds "
         "none and the output shrinks by k − 1. On the 5×5 image with a vertical-edge kernel: 5×5 against 3×3.",
         "Basic Concepts, Padding; 2D Correlation (conv_2d_1, conv_2d_2)",
         {"view": "lab", "section": "conv", "example": "2d-edge-same"},
         (Check("'same' output shape", [5, 5], lambda: v.correlation_shape("2d-edge-same")),
          Check("'valid' output shape", [3, 3], lambda: v.correlation_shape("2d-edge-valid")),
          Check("'same' padding p for k = 3", [1], lambda: v.same_paddings((3,))))),
    Step("Stride downsamples",
         "With stride 2 the window jumps two cells at a time, so the output is about half as wide.",
         "Basic Concepts, Stride; 2D Correlation (conv_2d_3: padding 1, stride 2)",
         {"view": "lab", "section": "conv", "example": "2d-edge-pad1-stride2"},
         (Check("padding 1, stride 2 output shape", [3, 3], lambda: v.correlation_shape("2d-edge-pad1-stride2")),)),
    Step("Dilation spreads the kernel",
         "Dilation puts gaps between the kernel's taps, so a 3×3 kernel covers 5×5 cells with the same nine "
         "weights. Raise the dilation in the Lab and see which cells the window touches.",
         "Basic Concepts, Dilation",
         {"view": "lab", "section": "conv", "example": "2d-edge-valid", "dilation": 2}),
    Step("Counting parameters by hand",
         "A convolution has (input channels × kernel height × kernel width + 1) × output channels parameters, "
         "a linear layer (inputs + 1) × outputs. The lecture's table adds them up; the studio builds the "
         "model and counts its tensors to confirm.",
         "CNN Implementation, Calculating the number of parameters (the table's Total Parameters row)",
         {"view": "lab", "section": "params", "preset": "seed002"},
         (Check("per-layer formulas", ["(3 × 3 × 3 + 1) × 8", "(8 × 3 × 3 + 1) × 16", "(1024 + 1) × 32",
                                       "(32 + 1) × 10"], v.params_formulas),
          Check("per layer", [224, 1168, 32800, 330], lambda: v.params_table()[1]),
          Check("total", "224 + 1168 + 32800 + 330 = 34522", lambda: v.params_table()[0]))),
    Step("The configurable PytorchCNN",
         "conv_channels, kernel_size and hidden_sizes decide the network: [8, 16], 3 and [32] give two conv "
         "blocks and one hidden layer. Change the options in the settings and the Model tab redraws.",
         "Using PyTorch (class PytorchCNN, summary(pytorch_model, ...))",
         {"view": "model", "model": "configurable-cnn", "options": SEED002_OPTIONS, "input_shape": [3, 32, 32],
          "dataset": "cifar10-sample"},
         (Check("parameters of PytorchCNN(3, [8, 16], 3, [32], 10, 32, 32)", 34522,
                lambda: v.param_count("configurable-cnn", options=SEED002_OPTIONS)),)),
    Step("One forward and backward pass",
         "A random batch of 100 images goes through the network, cross-entropy compares the logits with random "
         "labels, and loss.backward() fills every weight's .grad, including the first convolution's.",
         "Using PyTorch (forward pass, loss, loss.backward())",
         {"view": "lab", "section": "one_batch"}),
    Step("How weights start",
         "PyTorch draws a layer's first weights from a uniform range that shrinks with the number of inputs "
         "(Kaiming-style); the lecture's He formulas use √(6/n_in). Compare them on the lecture's layers.",
         "CNN Implementation, Notes: Weights (Kaiming/He initialization)",
         {"view": "lab", "section": "init", "preset": 3}),
    Step("Popular architectures: LeNet-5",
         "The 1998 digit reader is the ancestor of every network here: two conv + pool blocks and three linear "
         "layers. AlexNet, VGG and ResNet follow the same pattern, deeper and wider.",
         "Popular CNN Architectures, Classic / Foundational (LeNet-5)",
         {"view": "model", "model": "lenet5", "dataset": "mnist-sample"}),
))
