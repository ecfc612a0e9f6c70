"""Tour of seed 004: padding, stride, dilation with formulas, 1D and 2D correlation, CIFAR10Model with
its torchinfo summary, and ten steps of a minimal training loop."""

from __future__ import annotations

from studio.core.lectures import values as v
from studio.core.lectures.tours import Check, Step, Tour
from studio.core.config.presets import lecture_title

MODEL_TEXT = """\
CIFAR10Model(
  (feature_extractor): Sequential(
    (0): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))
    (1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): ReLU()
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (4): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1))
    (5): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (6): ReLU()
    (7): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (8): AdaptiveAvgPool2d(output_size=(1, 1))
  )
  (flatten): Flatten(start_dim=1, end_dim=-1)
  (classifier): Sequential(
    (0): Linear(in_features=64, out_features=10, bias=True)
  )
)"""
FEATURES = ("feature_extractor.0", "feature_extractor.1", "feature_extractor.4", "feature_extractor.5")
SHAPES = ("feature_extractor.0", "feature_extractor.3", "feature_extractor.4", "feature_extractor.7",
          "feature_extractor.8")

TOUR = Tour(4, lecture_title("004"), "004_b5dc3787cdd2c7b8.txt", (
    Step("Padding, stride and dilation as formulas",
         "The output length is ⌊(input − k) / s + 1⌋ without padding; 'same' padding adds ⌈(k − 1)/2⌉ on each "
         "side. Change padding, stride and dilation in the Lab: the formula is written out with the numbers.",
         "Convolution vs. Correlation, Basic Concepts (Padding, Stride, Dilation)",
         {"view": "lab", "section": "conv", "example": "1d-valid"},
         (Check("'same' padding p for k = 3", [1], lambda: v.same_paddings((3,))),)),
    Step("1D correlation, printed",
         "The same signal and kernel as the lecture: the Lab computes each output with F.conv1d and lets you "
         "step through the windows.",
         "1D Correlation (In [5], the three printed tensors)",
         {"view": "lab", "section": "conv", "example": "1d-pad2-stride2"},
         (Check("conv_1d_1 (same)", [5, 10, 15, 20, 25, 30, 35, 40, 25], lambda: v.correlation("1d-same")),
          Check("conv_1d_2 (valid)", [10, 15, 20, 25, 30, 35, 40], lambda: v.correlation("1d-valid")),
          Check("conv_1d_3 (padding 2, stride 2)", [2, 10, 20, 30, 40, 18],
                lambda: v.correlation("1d-pad2-stride2")))),
    Step("2D correlation on a ramp",
         "A 5×5 image counting 1 … 25 and a vertical-edge kernel: every valid window sees the same slope, so "
         "the output is constant; the padded versions show the borders.",
         "2D Correlation (In [7]-[8])",
         {"view": "lab", "section": "conv", "example": "2d-edge-valid"},
         (Check("'valid' output shape", [3, 3], lambda: v.correlation_shape("2d-edge-valid")),)),
    Step("CIFAR10Model: valid convolutions and global pooling",
         "Two 3×3 convolutions without padding, each with BatchNorm, ReLU and max pooling, then adaptive "
         "average pooling squeezes every map to one number, so one linear layer of 64 inputs gives the ten "
         "scores. print(model) shows it the way the notebook did.",
         "Convolutional Neural Networks (In [10], In [12]: print(model))",
         {"view": "model", "model": "cifar10-model", "input_shape": [3, 32, 32], "dataset": "cifar10-sample"},
         (Check("print(model)", MODEL_TEXT, lambda: v.printed_module("cifar10-model")),)),
    Step("The torchinfo summary",
         "For a batch of 3 the table lists each layer's output shape and parameters: 30×30 after the first "
         "valid conv, 15×15 after pooling, 13×13, 6×6 and finally 1×1.",
         "In [13]: summary(model, input_size=x.size())",
         {"view": "model", "model": "cifar10-model", "input_shape": [3, 32, 32], "batch": 3,
          "dataset": "cifar10-sample"},
         (Check("Param # of Conv2d, BatchNorm2d, Conv2d, BatchNorm2d", [896, 64, 18496, 128],
                lambda: v.summary_column("cifar10-model", FEATURES, "params", batch=3)),
          Check("output shapes (conv 1, pool 1, conv 2, pool 2, global pool)",
                [[3, 32, 30, 30], [3, 32, 15, 15], [3, 64, 13, 13], [3, 64, 6, 6], [3, 64, 1, 1]],
                lambda: v.summary_column("cifar10-model", SHAPES, "output_shape", batch=3)))),
    Step("How the weights start",
         "nn.Conv2d draws its weights from a Kaiming-style uniform range and, unlike the lecture's note, its "
         "biases too. See the histogram for the first conv layer of CIFAR10Model.",
         "Notes: Weights (Kaiming/He initialization), Biases",
         {"view": "lab", "section": "init", "preset": 0}),
    Step("Ten steps on one batch",
         "Three random images, labels [1, 0, 1], Adam at 0.01: forward, loss, backward, step, ten times. The "
         "loss falls from 2.84 to 0.013 because the network memorises the batch; replay it with the "
         "lecture's seed and compare every printed loss.",
         "In [14]: the training loop (epoch 1/10 … 10/10)",
         {"view": "lab", "section": "one_batch"},
         (Check("the ten printed losses",
                [2.8423, 1.0186, 0.3171, 0.1235, 0.0634, 0.0399, 0.0284, 0.0215, 0.0168, 0.0133],
                lambda: list(v.seed004_losses()), 0.00005),)),
    Step("Train it on CIFAR-10",
         "The same model on real photos with the settings the studio's recipe gives it. Opening this step fills "
         "in the settings; pressing Train is yours. It runs offline on the bundled CIFAR-10 sample "
         "(cifar10-sample), not the 50,000-image download.",
         "CIFAR10Model (the lecture trains one batch; this is the full-data version)",
         {"view": "train", "preset": "seed004-cifar10model", "dataset": "cifar10-sample"}),
))
