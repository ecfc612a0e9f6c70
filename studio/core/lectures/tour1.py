"""Tour of seed 001: correlation, softmax and cross-entropy, pooling, output sizes, CifarCNN on
CIFAR-10, filters, activations and adversarial examples."""

from __future__ import annotations

from studio.core.lectures import values as v
from studio.core.lectures.tours import Check, Step, Tour
from studio.core.config.presets import lecture_title

OFFLINE = "It runs offline on the bundled CIFAR-10 sample (cifar10-sample), not the 50,000-image download."

CONV_LAYER = """\
Sequential(
(0): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
(2): ReLU(inplace=True)
(3): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(4): ReLU(inplace=True)
(5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
(6): Conv2d(64, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(7): BatchNorm2d(128, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
(8): ReLU(inplace=True)
(9): Conv2d(128, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(10): ReLU(inplace=True)
(11): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
(12): Dropout2d(p=0.05, inplace=False)
(13): Conv2d(128, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(14): BatchNorm2d(256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
(15): ReLU(inplace=True)
(16): Conv2d(256, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(17): ReLU(inplace=True)
(18): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
)"""


TOUR = Tour(1, lecture_title("001"), "001_2fc65e91c966a12b.txt", (
    Step("A window that slides",
         "Correlation lays the kernel on the input, multiplies cell by cell and adds. Halving every value "
         "in a 2×2 window is the same as a kernel of four 0.5s; step through the first two outputs.",
         "2D Convolution (the 5×5 grid with in₁ … in₈ and out₁, out₂)",
         {"view": "lab", "section": "conv", "example": "2d-seed001-half",
          "input": [[2.0, 3.0, 0.0, 5.0, 2.5], [2.0, 1.5, 0.5, 0.0, 7.0], [1.5, 5.0, 5.0, 3.0, 2.0],
                    [3.0, 5.0, 7.0, 1.5, 0.0], [2.0, 5.0, 2.0, 1.5, 2.0]],
          "kernel": [[0.5, 0.5], [0.5, 0.5]]},
         (Check("out₁, out₂", [4.25, 2.5], lambda: v.correlation_cells("2d-seed001-half", [(0, 0), (0, 1)])),)),
    Step("The numerical example",
         "A 3×3 input and a 2×2 kernel give a 2×2 output; the course treats convolution as correlation, so "
         "the kernel is not flipped.",
         "2D Convolution, Numerical Example",
         {"view": "lab", "section": "conv", "example": "2d-seed001",
          "input": [[12, 3, 19], [25, 10, 1], [9, 7, 17]], "kernel": [[1, 2], [3, 4]]},
         (Check("output", [[133, 75], [100, 101]], lambda: v.correlation("2d-seed001")),)),
    Step("Softmax turns scores into probabilities; cross-entropy scores them",
         "Softmax exponentiates the scores and divides by their sum, so they are positive and add to one. "
         "Cross-entropy is minus the log of the true class's probability: small when the network is sure "
         "and right, huge when it is sure and wrong.",
         "The Softmax Function; Loss Function - Cross Entropy (p_c = 0.1, 0.9, 1)",
         {"view": "lab", "section": "softmax", "logits": [2.0, 1.0, 0.1], "target": 2},
         (Check("−log(p) for p = 0.1, 0.9, 1", [2.3, 0.1, 0.0],
                lambda: [v.cross_entropy_of(p) for p in (0.1, 0.9, 1.0)], 0.05),)),
    Step("Pooling, stride and the extra zeros",
         "A 2×2 max pool with stride 2 needs an even grid; on a 5×5 input one row and one column of zeros "
         "are added, and the output is 3×3. Step through each window.",
         "Pooling; Strides and Down-sampling; Padding",
         {"view": "lab", "section": "pool"},
         (Check("5×5 input plus the extra zero row and column", [6, 6], v.lecture_pool_padded_shape),
          Check("5×5 input, 2×2 window, stride 2 → output", [3, 3], v.lecture_pool_shape))),
    Step("How big is the output?",
         "Width out = (width in − filter + 2·padding) / stride + 1. A 28×28 digit with 5×5 filters and "
         "padding 2 stays 28, pooling halves it to 14, the next block gives 14 then 7, so each map has 7×7 = "
         "49 values for the linear layer.",
         "Calculating the Convolutional Layer Output Shape (28×28, 5×5, padding 2)",
         {"view": "lab", "section": "params", "preset": "seed001-28"},
         (Check("sides after conv, pool, conv, pool", [28, 14, 14, 7], v.recipe_sides),
          Check("inputs to the FC layer per map (7 × 7)", 49, lambda: v.recipe_sides()[-1] ** 2),
          Check("'same' padding for kernels 3, 5, 7", [1, 2, 3], v.same_paddings))),
    Step("CIFAR-10's normalisation",
         "Each colour channel is shifted and scaled by the training set's mean and standard deviation, "
         "after the crop and flip augmentations. Opening this step fills in notebook 001's recipe. " + OFFLINE,
         "The CIFAR-10 Dataset (transforms.Normalize in transform_train / transform_test)",
         {"view": "train", "preset": "seed001-cifarcnn", "dataset": "cifar10-sample"},
         (Check("mean and std per channel", [[0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]],
                lambda: v.normalization("seed001")),)),
    Step("CifarCNN: six convolutions and a classifier",
         "Three blocks of two 3×3 convolutions (with BatchNorm and one max pool each) turn a 32×32 photo into "
         "256 maps of 4×4, which are flattened to 4,096 numbers for three linear layers.",
         "Building a CNN-Classifier for CIFAR-10 with PyTorch (In [2]-[4])",
         {"view": "model", "model": "cifar-cnn", "input_shape": [3, 32, 32], "dataset": "cifar10-sample"},
         (Check("dummy_output.shape after conv_layer", "torch.Size([1, 256, 4, 4])",
                lambda: v.module_output_shape("cifar-cnn", "conv_layer")),
          Check("flattened shape", "torch.Size([1, 4096])", lambda: v.flattened_size("cifar-cnn", "conv_layer")),
          Check("num trainable weights", 5852170, lambda: v.param_count("cifar-cnn")),
          Check("model size (MB)", 22.33, lambda: v.size_mb("cifar-cnn"), 0.005),
          Check("print(model.conv_layer)", CONV_LAYER,
                lambda: v.printed_module("cifar-cnn", "conv_layer")))),
    Step("Train CifarCNN with the lecture's log",
         "Adam at 1e-4, batches of 128, random crops and flips; each epoch prints the lecture's line with "
         "loss, training and test accuracy and epoch time. Opening this step fills in the settings; pressing "
         "Train is yours. " + OFFLINE,
         "In [5]-[7]: hyper-parameters, calculate_accuracy, the training loop's log line",
         {"view": "train", "preset": "seed001-cifarcnn", "dataset": "cifar10-sample"},
         (Check("the log line of epoch 1",
                "Epoch: 1 | Loss: 1.5168 | Training accuracy: 56.276% | Test accuracy: 57.460% | "
                "Epoch Time: 61.60 secs", lambda: v.epoch_line(1, 1.5168, 56.276, 57.460, 61.60)),
          Check("batch size, learning rate, epochs", [128, 0.0001, 20],
                lambda: v.preset_values("seed001-cifarcnn", ("batch_size", "lr", "epochs"))))),
    Step("The confusion matrix",
         "Which classes get mistaken for which: rows are the true class, columns the prediction. Cats and "
         "dogs are the classic pair.",
         "In [8]: calculate_accuracy's confusion matrix on the test set",
         {"view": "evaluation"}),
    Step("First-layer filters before training",
         "Each of the 32 first-layer filters is 3×3 on the three colour channels, so it can be shown as a tiny "
         "colour picture. At epoch 0 they are noise.",
         "Visualizing CNN Filters (In [9])",
         {"view": "kernels", "epoch": 0},
         (Check("first conv layer's weight shape", [32, 3, 3, 3], lambda: v.first_conv_filters("cifar-cnn")),)),
    Step("… and after training",
         "Compare the same filters at the last epoch: many turn into colour blobs and oriented edges.",
         "Visualizing CNN Filters (In [9])",
         {"view": "kernels", "epoch": "last"}),
    Step("What each layer sees",
         "Pass a photo of a cat through the network and look at every layer's output, averaged over its "
         "channels, then at each filter of one layer. The lecture uses a pretrained VGG16 and a kitten; here "
         "it is the model you trained and the bundled cat photo.",
         "Visualizing Layer Output; Output of Each Filter for a Certain Layer",
         {"view": "activations", "photo": "chelsea.png"}),
    Step("Adversarial examples",
         "Change every pixel by at most 0.005 (on a 0-1 scale) in the direction that hurts the network most, "
         "and a confident answer can flip while the picture looks the same to us.",
         "Are CNNs the Holy Grail? The Problem with CNNs (the pig and the airliner)",
         {"view": "predict", "adversarial": {"eps": 0.005}}),
))
