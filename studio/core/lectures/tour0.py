"""Tour of seed 000: PyTorch basics, autograd, convolution by hand, LoG kernels, pooling, AlexNet."""

from __future__ import annotations

from studio.core.lectures import values as v
from studio.core.lectures.tours import Check, Step, Tour
from studio.core.config.presets import lecture_title

OFFLINE = "It runs offline on the bundled CIFAR-10 sample (cifar10-sample), not the 50,000-image download."

TOUR = Tour(0, lecture_title("000"), "000_bb4ab93e41630d27.txt", (
    Step("Tensors have shapes",
         "A tensor is a grid of numbers with a shape and a type. Reshaping rearranges the same numbers; adding "
         "needs shapes that line up from the right (or a size of 1 that stretches); a matrix product needs the "
         "inner sizes to agree. Try shapes in the Lab and read torch's own error when they don't fit.",
         "§1.1 Basic Operations (the x, M, reshape, elementwise and matmul cells)",
         {"view": "lab", "section": "tensors"},
         (Check("x = torch.tensor(0.): shape and dtype", "x.shape=torch.Size([]), x.dtype=torch.float32",
                lambda: v.tensor_fact(0)),
          Check("M = torch.tensor([[1., 2.], [3., 4.]]): shape and dtype",
                "M.shape=torch.Size([2, 2]), M.dtype=torch.float32", lambda: v.tensor_fact(1)),
          Check("M1 = M.to(device, dtype=torch.int64): dtype", "M1.dtype=torch.int64", lambda: v.tensor_fact(2)),
          Check("M2 = M1.reshape(1, 4): shape", "M2.shape=torch.Size([1, 4])", lambda: v.tensor_fact(3)),
          Check("C = A + B with A, B of 3×4: C.shape", "torch.Size([3, 4])", lambda: v.tensor_fact(4)),
          Check("D = torch.matmul(A, B.T): D.shape", "torch.Size([3, 3])", lambda: v.tensor_fact(6)))),
    Step("Autograd does the chain rule for you",
         "For logistic regression the gradient of the loss can be derived by hand; calling loss.backward() "
         "gives the same numbers for the weights and the bias. Only leaf tensors keep .grad, so y.grad stays "
         "empty.",
         "§1.2 Intro to Autograd (logistic regression, hand-derived gradients)",
         {"view": "lab", "section": "autograd"},
         (Check("autograd gradient equals the hand-derived one", True, v.autograd_matches_hand),)),
    Step("Fitting a curve by gradient descent",
         "Start the three parameters of a logistic curve far off and let gradient descent pull them towards "
         "noisy data for 700 epochs. With the lecture's seed the fit lands where the notebook's did.",
         "§1.3 Solving Non-Linear Least-Squares problem in Pytorch (700 epochs, lr 0.05)",
         {"view": "lab", "section": "autograd", "fit": {"epochs": 700, "lr": 0.05, "seed": 42}},
         (Check("learned L, k, x0", [10.11, 1.84, 5.09], lambda: list(v.logistic_fit_params()), 0.005),)),
    Step("The Laplacian-of-Gaussian kernel, in numbers",
         "The LoG kernel is a smoothed second derivative: a negative centre ringed by a positive valley that "
         "fires on blobs and edges. Its side grows with σ: 2·⌈3σ⌉ + 1 cells. Here are its values, not only "
         "its colours.",
         "§2.1 Convolution operation, EXAMPLE: 2D Laplacian of Gaussian (create_log_kernel)",
         {"view": "lab", "section": "log_values", "sigma": 5},
         (Check("LoG kernel side for σ = 5", 31, lambda: v.log_kernel_side(5)),
          Check("LoG kernel side for σ = 10", 61, lambda: v.log_kernel_side(10)))),
    Step("A photo through the LoG kernel",
         "Sliding the kernel over a grey photo turns flat regions dark and keeps the blobs. F.conv2d does the "
         "same sum as the lecture's two nested loops, thousands of times faster.",
         "§2.1 Convolution operation (convolve_gray, then F.conv2d with padding k // 2)",
         {"view": "lab", "section": "photo", "kernel": "log", "sigma": 5}),
    Step("Many input channels, many filters",
         "With a colour image each filter has one 3×3 slice per input channel; the slices' sums add up to one "
         "output number. Sixteen filters give sixteen output maps, and without padding the 32×32 image "
         "shrinks by two.",
         "§2.2 CNN building blocks, Multichannel Convolution (the 32×32×3 example)",
         {"view": "lab", "section": "multichannel", "height": 32, "width": 32, "in_channels": 3,
          "out_channels": 16, "kernel": 3},
         (Check("32×32×3 with 16 filters of 3×3×3 → H×W×C", [30, 30, 16], v.multichannel_hwc),)),
    Step("Max pooling halves the map",
         "Max pooling keeps the largest value of each window. A 2×2 window with stride 2 halves height and "
         "width and leaves the channels alone; on the LoG photo the lecture uses an 8×8 window with stride 8.",
         "§2.2 CNN building blocks, MaxPooling 2D; the max_pool2d cell (kernel_size=8, stride=8)",
         {"view": "lab", "section": "photo", "kernel": "log", "sigma": 5, "pool": {"kernel": 8, "stride": 8}},
         (Check("32×32×64, 2×2 window, stride 2 → H×W×C", [16, 16, 64], lambda: v.maxpool_hwc(32, 32, 64, 2, 2)),)),
    Step("AlexNet, layer by layer",
         "Five convolutions, the first 11×11 with stride 4, overlapping 3×3 max pooling, then three linear "
         "layers with dropout. On a 227×227 image the last pooling leaves 256 maps of 6×6 to flatten.",
         "§2.3 Building CNN in Pytorch (class AlexNet, print(model))",
         {"view": "model", "model": "alexnet", "input_shape": [3, 227, 227], "dataset": "cifar10-sample"},
         (Check("maps before flattening (C, H, W)", [256, 6, 6], v.alexnet_feature_shape),)),
    Step("Train AlexNet on CIFAR-10",
         "The lecture's recipe: images resized to 227, normalised with 0.5, Adam at 0.001, batches of 64, "
         "10 epochs. Opening this step fills in the settings; pressing Train is yours. " + OFFLINE,
         "§3.1 Setting up CNN training pipeline (training loop, test accuracy per epoch)",
         {"view": "train", "preset": "seed000-alexnet", "dataset": "cifar10-sample"},
         (Check("batch size, learning rate, epochs", [64, 0.001, 10],
                lambda: v.preset_values("seed000-alexnet", ("batch_size", "lr", "epochs"))),)),
    Step("Predictions in green and red",
         "After training, look at test images with their true and predicted classes: right answers in green, "
         "mistakes in red, and the confusion matrix for where the mistakes go.",
         "§3.2 Evaluation and inference of CNN model (the 2×5 prediction grid)",
         {"view": "evaluation"}),
))
