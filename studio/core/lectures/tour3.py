"""Tour of seed 003: CIFAR-10 first, a 3-block CNN with BatchNorm, activations, loss, optimisers,
learning rate and epochs, over- and underfitting."""

from __future__ import annotations

from studio.core.lectures import values as v
from studio.core.lectures.tours import Check, Step, Tour
from studio.core.config.presets import lecture_title

OFFLINE = "It runs offline on the bundled CIFAR-10 sample (cifar10-sample), not the 50,000-image download."
LAYERS = ("layer1.0", "layer1", "layer2.0", "layer2", "layer3.0", "layer3")

TOUR = Tour(3, lecture_title("003"),
            "003_07c98a8caa446cf7.txt", (
    Step("Look at the data first",
         "Before any training, look at the pictures and their labels: 32×32 colour photos in ten classes. "
         "Mislabelled, rotated or wrongly scaled images show up here, not in a loss curve. " + OFFLINE,
         "Loading CIFAR-10; plotting a grid of images with their classes",
         {"view": "data", "dataset": "cifar10-sample"}),
    Step("Three conv blocks with BatchNorm",
         "Each block is a 3×3 convolution, BatchNorm, ReLU and a 2×2 max pool: the maps double in number and "
         "halve in size, from 3×32×32 to 128×4×4, which one linear layer turns into ten scores.",
         "Building a CNN (class CNN, the shape comments)",
         {"view": "model", "model": "lecture-cnn", "input_shape": [3, 32, 32], "dataset": "cifar10-sample"},
         (Check("output shapes of conv 1, block 1, conv 2, block 2, conv 3, block 3",
                [[1, 32, 32, 32], [1, 32, 16, 16], [1, 64, 16, 16], [1, 64, 8, 8], [1, 128, 8, 8],
                 [1, 128, 4, 4]],
                lambda: v.summary_column("lecture-cnn", LAYERS, "output_shape")),
          Check("flattened feature vector (128 * 4 * 4)", [1, 2048],
                lambda: v.summary_column("lecture-cnn", ("fc",), "input_shape")[0]))),
    Step("Activation functions",
         "Without a non-linearity, stacked layers collapse into one linear map. ReLU is the default; "
         "LeakyReLU keeps a small slope below zero; Tanh squashes to (−1, 1). Swap them in the model options "
         "and retrain to answer the lecture's question.",
         "Activation Functions; Q: What happens as you change the activation function?",
         {"view": "model", "model": "lecture-cnn", "options": {"activation": "leaky_relu"},
          "dataset": "cifar10-sample"}),
    Step("Loss, optimiser, learning rate, epochs",
         "Cross-entropy on the logits, Adam at 0.001, batches of 100, ten epochs, images normalised to about "
         "[−1, 1]. Opening this step fills in the settings; pressing Train is yours. " + OFFLINE,
         "Training a CNN: loss function, optimizer, learning rate, the training loop",
         {"view": "train", "preset": "seed003-cnn", "dataset": "cifar10-sample"},
         (Check("batch size, learning rate, epochs", [100, 0.001, 10],
                lambda: v.preset_values("seed003-cnn", ("batch_size", "lr", "epochs"))),
          Check("normalisation mean and std", [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
                lambda: v.normalization("half")))),
    Step("A learning rate too high",
         "The same recipe with a learning rate a hundred times larger: the loss jumps around or blows up. "
         "Try it, then try one a hundred times smaller and watch it crawl. " + OFFLINE,
         "Q: What happens if the learning_rate parameter is too high? Or too low?",
         {"view": "train", "preset": "seed003-cnn", "dataset": "cifar10-sample", "settings": {"lr": 0.1}}),
    Step("Reading the curves",
         "Training accuracy climbing while test accuracy stalls means overfitting; both low means "
         "underfitting. The Training tab draws loss and accuracy per epoch for exactly this.",
         "Analyzing Performance (accuracy and loss against epochs)",
         {"view": "train"}),
    Step("Test accuracy",
         "Evaluation mode switches BatchNorm to its running statistics and turns dropout off; the test images "
         "were never trained on, so their accuracy estimates performance on new photos.",
         "Validating a CNN (model.eval(), torch.no_grad())",
         {"view": "evaluation"}),
))
