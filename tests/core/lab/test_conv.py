"""The Convolution Lab's maths reproduces the lectures' printed numbers, using the real torch ops."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.core.lab import conv as convlab
from studio.core.lab import autograd as ca
from studio.core.lab import kernels as ck
from studio.core.lab import params as cp
from studio.core.lab.conv import ConvLabError, ConvSettings
from studio.core.errors import StudioError

# ------------------------------------------------------------------ the lectures' examples


@pytest.mark.parametrize("key, printed", [
    # seed 004 lines 116-118 (In [5]): conv_1d_1 / conv_1d_2 / conv_1d_3
    ("1d-same", [5, 10, 15, 20, 25, 30, 35, 40, 25]),
    ("1d-valid", [10, 15, 20, 25, 30, 35, 40]),
    ("1d-pad2-stride2", [2, 10, 20, 30, 40, 18]),
])
def test_1d_examples_match_seed_004_printout(key, printed):
    ex = convlab.get_example(key)
    out = convlab.run_example(ex).output
    assert out.shape == (1, len(printed))
    assert out[0].tolist() == printed
    assert ex.expected.tolist() == printed


def test_1d_examples_match_the_lecture_code_run_on_int_tensors():
    # The notebook feeds int64 tensors to F.conv1d; the lab's float64 path gives the same integers.
    signal_1d = torch.arange(1, 10).reshape(1, 1, -1)
    kernel_1d = torch.tensor([2, 1, 2]).reshape(1, 1, -1)
    lecture = [F.conv1d(signal_1d, kernel_1d, padding="same"), F.conv1d(signal_1d, kernel_1d, padding="valid"),
               F.conv1d(signal_1d, kernel_1d, padding=2, stride=2)]
    for key, ref in zip(("1d-same", "1d-valid", "1d-pad2-stride2"), lecture):
        assert convlab.run_example(convlab.get_example(key)).output[0].tolist() == ref[0, 0].tolist()


def test_seed_001_numerical_example():
    # seed 001 line 69: [[12,3,19],[25,10,1],[9,7,17]] * [[1,2],[3,4]] = [[133,75],[100,101]]
    ex = convlab.get_example("2d-seed001")
    out = convlab.run_example(ex).output[0]
    assert out.tolist() == [[133, 75], [100, 101]]
    assert np.array_equal(out, ex.expected)
    first = convlab.step_at(convlab.run_example(ex), 0)
    assert first.equation() == "12·1 + 3·2 + 25·3 + 10·4 = 133"


def test_seed_001_sliding_window_half_filter():
    # seed 001 lines 53-62: 0.5 × each node under a 2×2 window, out1 = 4.25, out2 = 2.5
    ex = convlab.get_example("2d-seed001-half")
    out = convlab.run_example(ex).output[0]
    assert out[0, 0] == 4.25 and out[0, 1] == 2.5
    for idx, value in ex.expected_cells:
        assert out[idx] == value


def _correlate_by_hand(x, k, pad, stride):
    """An independent double loop (no torch) for the 2-D examples the notebooks only plot."""
    xp = np.pad(x, pad)
    kh, kw = k.shape
    rows = (xp.shape[0] - kh) // stride + 1
    cols = (xp.shape[1] - kw) // stride + 1
    return np.array([[np.sum(xp[i * stride:i * stride + kh, j * stride:j * stride + kw] * k)
                      for j in range(cols)] for i in range(rows)])


@pytest.mark.parametrize("key, pad, stride", [("2d-edge-same", 1, 1), ("2d-edge-valid", 0, 1),
                                              ("2d-edge-pad1-stride2", 1, 2)])
def test_2d_arange_image_with_vertical_edge_kernel(key, pad, stride):
    # seeds 002 (lines 361-373) and 004 (lines 142-149): 5×5 arange, [[1,0,-1]]×3
    ex = convlab.get_example(key)
    assert ex.signal.tolist() == np.arange(1, 26).reshape(5, 5).tolist()
    out = convlab.run_example(ex).output[0]
    assert np.array_equal(out, _correlate_by_hand(ex.signal, ex.kernel, pad, stride))
    x = torch.arange(1, 26, dtype=torch.float32).reshape(1, 1, 5, 5)
    w = torch.tensor([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=torch.float32).reshape(1, 1, 3, 3)
    pad_arg = {"2d-edge-same": "same", "2d-edge-valid": "valid"}.get(key, 1)
    assert np.array_equal(out, F.conv2d(x, w, padding=pad_arg, stride=stride)[0, 0].numpy())


def test_valid_edge_output_is_minus_six_everywhere():
    out = convlab.run_example(convlab.get_example("2d-edge-valid")).output[0]
    assert out.shape == (3, 3) and np.all(out == -6)


def test_convolution_flips_the_kernel():
    ex = convlab.get_example("2d-seed001")
    conv = convlab.convolve(ex.signal, ex.kernel, ConvSettings(padding="valid"))
    assert conv.tolist() == [[117, 90], [155, 74]]            # 12·4 + 3·3 + 25·2 + 10·1 = 117
    assert np.array_equal(conv, convlab.correlate(ex.signal, ex.kernel[::-1, ::-1], ConvSettings(padding="valid")))


# ------------------------------------------------------------------ output size


def test_output_size_text_seed_001_example():
    # seed 001 lines 273-277: 28×28, 5×5 filter, padding 2, stride 1 -> 28; pool -> 14 -> 14 -> 7
    text = convlab.output_size_text(28, 5, 2, 1, 1, "W")
    assert "(28 − 5 + 2·2)/1 + 1 = 28" in text
    assert "⌊(28 + 2·2 − 1·(5−1) − 1)/1⌋ + 1 = ⌊27/1⌋ + 1 = 28" in text
    assert convlab.output_size(14, 5, 2) == 14
    assert ck.pool_output_text(28, 2, 2).endswith("= 14")
    assert ck.pool_output_text(14, 2, 2).endswith("= 7")


def test_output_size_text_for_dilation_and_same():
    text = convlab.output_size_text(9, 3, 2, 2, 1, "L")
    assert text.splitlines()[0].endswith("⌊10/2⌋ + 1 = 6")
    assert "lecture form" in text
    dilated = convlab.output_size_text(9, 3, 0, 1, 2, "L")
    assert "2·(3−1)" in dilated and dilated.endswith("= 5") and "lecture form" not in dilated
    even_same = convlab.output_size_text(5, 2, "same")
    assert "0 before, 1 after" in even_same and even_same.endswith("= 5")


@pytest.mark.parametrize("n, k, p, s, d", [(5, 3, 0, 1, 1), (9, 3, 2, 2, 1), (7, 3, 1, 3, 2), (8, 2, "same", 1, 1),
                                           (6, 3, "same", 1, 2), (10, 4, 3, 2, 1), (5, 5, "valid", 1, 1)])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_output_size_matches_torch(n, k, p, s, d):
    x = torch.zeros(1, 1, n, n)
    w = torch.zeros(1, 1, k, k)
    assert F.conv2d(x, w, padding=p, stride=s, dilation=d).shape[-1] == convlab.output_size(n, k, p, s, d)


# ------------------------------------------------------------------ the stepper


def _stepper_sums(result):
    return np.array([st.total for st in convlab.stepper(result)]).reshape(result.output.shape)


@pytest.mark.parametrize("padding, stride, dilation", [
    combo for combo in itertools.product(["same", "valid", 0, 1, 2], [1, 2, 3], [1, 2])
    if not (combo[0] == "same" and combo[1] > 1)])       # torch refuses those (tested below)
def test_stepper_sums_equal_f_conv2d(padding, stride, dilation):
    rng = np.random.default_rng(7)
    x = rng.integers(-5, 6, size=(6, 7)).astype(np.float64)
    w = rng.integers(-3, 4, size=(3, 2)).astype(np.float64)
    s = ConvSettings(padding=padding, stride=stride, dilation=dilation)
    result = convlab.run_conv(x, w, s)
    ref = F.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None], padding=padding,
                   stride=stride, dilation=dilation)[0].numpy()
    assert np.array_equal(result.output, ref)
    assert np.allclose(_stepper_sums(result), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding, stride", [(1, 1), (2, 2), ("same", 1)])
def test_padding_modes_match_nn_conv2d(mode, padding, stride):
    torch.manual_seed(0)
    x = torch.randn(1, 1, 5, 6, dtype=torch.float64)
    conv = nn.Conv2d(1, 1, 3, padding=padding, stride=stride, padding_mode=mode, bias=False).double()
    s = ConvSettings(padding=padding, padding_mode=mode, stride=stride)
    result = convlab.run_conv(x[0, 0].numpy(), conv.weight.detach()[0, 0].numpy(), s)
    ref = conv(x).detach()[0].numpy()
    assert np.allclose(result.output, ref, atol=1e-12)
    assert np.allclose(_stepper_sums(result), ref, atol=1e-12)


def test_groups_and_channels_match_f_conv2d():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 5, 5))
    w = rng.normal(size=(6, 2, 3, 3))        # groups=2: each output sees 2 of the 4 channels
    s = ConvSettings(padding=1, stride=2, groups=2)
    result = convlab.run_conv(x, w, s, dims=2)
    ref = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w), padding=1, stride=2, groups=2)[0].numpy()
    assert np.allclose(result.output, ref)
    assert np.allclose(_stepper_sums(result), ref)
    last = convlab.step_at(result, result.output.size - 1)
    assert {t[0] for t in last.taps} == {2, 3}        # output channel 5 is in group 1: channels 2 and 3


def test_stepper_flip_and_1d():
    x = np.arange(1.0, 10.0)
    k = np.array([1.0, 0.0, 3.0])
    result = convlab.run_conv(x, k, ConvSettings(padding=1, stride=2, dilation=2, flip=True))
    ref = F.conv1d(torch.from_numpy(x)[None, None], torch.from_numpy(k[::-1].copy())[None, None], padding=1,
                   stride=2, dilation=2)[0].numpy()
    assert np.array_equal(result.output, ref)
    assert np.allclose(_stepper_sums(result), ref)
    step = convlab.step_at(result, 0)
    assert [t[1] for t in step.taps] == [0, 2, 4]      # dilation 2: every other padded cell


@pytest.mark.parametrize("settings, x_shape, k_shape, words", [
    (ConvSettings(padding="same", stride=2), (5, 5), (3, 3), "stride 1"),
    (ConvSettings(padding=0, dilation=3), (5, 5), (3, 3), "dilated kernel spans 7"),
    (ConvSettings(padding=5, padding_mode="reflect"), (5, 5), (3, 3), "Reflect padding"),
    (ConvSettings(padding=7, padding_mode="circular"), (5, 5), (3, 3), "wraps around"),
    (ConvSettings(padding="bogus"), (5, 5), (3, 3), "Unknown padding"),
    (ConvSettings(stride=0), (5, 5), (3, 3), "Stride"),
])
def test_invalid_settings_give_a_sentence(settings, x_shape, k_shape, words):
    with pytest.raises(ConvLabError, match=words) as info:
        convlab.run_conv(np.ones(x_shape), np.ones(k_shape), settings)
    assert isinstance(info.value, StudioError)


def test_groups_that_do_not_divide_are_refused():
    with pytest.raises(ConvLabError, match="groups=2 must divide"):
        convlab.run_conv(np.ones((3, 4, 4)), np.ones((2, 1, 3, 3)), ConvSettings(groups=2), dims=2)


# ------------------------------------------------------------------ kernels on a photo


def test_log_kernel_size_rule_from_seed_000():
    assert ck.log_kernel_size(5) == 31 and ck.log_kernel_size(10) == 61 and ck.log_kernel_size(2) == 13
    k = ck.log_kernel(5)
    assert k.shape == (31, 31) and k.dtype == np.float32
    assert np.allclose(k, k.T) and np.allclose(k, k[::-1, ::-1])
    assert k[15, 15] == k.min() < 0                       # a dark blob detector: negative centre


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5, 2.0, 5.0, 10.0])
def test_log_kernel_equals_scipy_gaussian_laplace(sigma):
    scipy_ndimage = pytest.importorskip("scipy.ndimage")

    def create_log_kernel(sigma):              # seed 000 lines 452-457, verbatim
        kernel_size = int(2 * np.ceil(3 * sigma) + 1)
        impulse_image = np.zeros((kernel_size, kernel_size))
        impulse_image[kernel_size // 2, kernel_size // 2] = 1
        return scipy_ndimage.gaussian_laplace(impulse_image, sigma=sigma)

    assert np.array_equal(ck.log_kernel(sigma), create_log_kernel(sigma).astype(np.float32))


def test_filter_image_is_f_conv2d_with_seed_000_padding_and_matches_the_loop():
    rng = np.random.default_rng(3)
    image = rng.random((40, 33)).astype(np.float32)
    kernel = ck.log_kernel(2)
    out = ck.filter_image(image, kernel)
    ref = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                   padding=kernel.shape[-1] // 2)[0, 0].numpy()
    assert out.shape == image.shape and np.array_equal(out, ref)
    # The lecture's loop flips the kernel; LoG is symmetric, so both pictures agree.
    assert np.allclose(ck.convolve_gray(image, kernel), out, atol=1e-5)
    # For an asymmetric kernel, the loop is the flip=True result.
    sobel = ck.make_kernel("sobel-x")
    assert np.allclose(ck.convolve_gray(image, sobel), ck.filter_image(image, sobel, flip=True), atol=1e-5)
    assert np.allclose(ck.filter_image(image, sobel), -ck.filter_image(image, sobel, flip=True), atol=1e-6)


def test_presets_are_what_they_say():
    assert ck.make_kernel("box", size=3).sum() == pytest.approx(1.0)
    assert ck.make_kernel("gaussian", sigma=1.0, size=5).sum() == pytest.approx(1.0)
    assert ck.make_kernel("sharpen").sum() == 1 and ck.make_kernel("laplacian").sum() == 0
    assert ck.make_kernel("vertical-edge").tolist() == [[1, 0, -1]] * 3
    for preset in ck.PRESETS:
        k = ck.make_kernel(preset.key, sigma=1.5, size=5)
        assert k.ndim == 2 and k.dtype == np.float32 and np.all(np.isfinite(k))
    image = np.random.default_rng(0).random((9, 9)).astype(np.float32)
    assert np.allclose(ck.filter_image(image, ck.make_kernel("identity")), image)
    with pytest.raises(ConvLabError):
        ck.make_kernel("box", size=4)
    with pytest.raises(ConvLabError):
        ck.make_kernel("nope")


def test_pooling_8_by_8_like_seed_000():
    rng = np.random.default_rng(5)
    image = rng.random((512, 512)).astype(np.float32)
    pooled = ck.pool(image, "max", 8, 8)
    assert pooled.shape == (64, 64)
    assert np.array_equal(pooled, image.reshape(64, 8, 64, 8).max(axis=(1, 3)))
    avg = ck.pool(image, "avg", 8, 8)
    assert np.allclose(avg, image.reshape(64, 8, 64, 8).mean(axis=(1, 3)), atol=1e-6)
    assert ck.pool(image[:300, :451], "max", 8, 8).shape == (37, 56)
    with pytest.raises(ConvLabError, match="does not fit"):
        ck.pool(image[:4, :4], "max", 8, 8)


def test_sample_photo_through_log_decodes_and_filters():
    from studio.core.images import decode_image
    from studio.core.paths import RESOURCES

    gray = ck.to_gray_float(decode_image(RESOURCES / "images" / "astronaut.png", mode="L"))
    assert gray.shape == (512, 512) and gray.dtype == np.float32 and 0 <= gray.min() < gray.max() <= 1
    out = ck.filter_image(ck.downscale(gray, 128), ck.log_kernel(1.5))
    assert out.shape == (128, 128) and np.isfinite(out).all() and out.std() > 0


def test_timing_the_loop_against_f_conv2d():
    image = np.random.default_rng(2).random((24, 20)).astype(np.float32)
    kernel = ck.make_kernel("sobel-y")
    r = ck.time_loop_vs_torch(image, kernel, torch_repeats=2)
    assert r.loop_seconds > 0 and r.torch_seconds > 0 and r.shape == (24, 20)
    assert r.max_abs_diff < 1e-5
    assert "Python loop" in r.summary() and "F.conv2d" in r.summary()
    assert ck.time_loop_vs_torch(image, kernel, should_stop=lambda: True) is None


# ------------------------------------------------------------------ counting parameters


from tests.core.lab.notebook_code import NotebookPytorchCNN as PytorchCNN  # noqa: E402


def test_seed_002_parameter_table():
    model, table = cp.recipe_table(cp.CnnRecipe())
    with_params = [r for r in table.rows if r.has_params]
    # seed 002 lines 544-562
    assert [r.total_formula for r in with_params] == [
        "(3 × 3 × 3 + 1) × 8 = 224", "(8 × 3 × 3 + 1) × 16 = 1168",
        "(1024 + 1) × 32 = 32800", "(32 + 1) × 10 = 330"]
    assert [r.weights_formula for r in with_params] == [
        "(3 × 3 × 3) × 8 = 216", "(8 × 3 × 3) × 16 = 1152", "1024 × 32 = 32768", "32 × 10 = 320"]
    assert [r.biases_formula for r in with_params] == ["8", "16", "32", "10"]
    assert table.total_formula == "224 + 1168 + 32800 + 330 = 34522"
    assert table.total == table.numel_total == 34522 and table.matches
    assert cp.estimate_params(cp.CnnRecipe()) == 34522
    lecture = PytorchCNN(3, [8, 16], 3, [32], 10, 32, 32)
    assert sum(p.numel() for p in lecture.parameters()) == 34522
    assert [r.numel for r in with_params] == [
        sum(p.numel() for p in m.parameters()) for m in lecture.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert str(lecture.features) == str(model.features) and str(lecture.classifier) == str(model.classifier)


def test_seed_001_shapes_and_batchnorm_counts():
    _model, table = cp.recipe_table(cp.CnnRecipe(1, (8, 16), (5,), (), 10, 28, 28))
    pools = [r.output_shape for r in table.rows if r.kind == "MaxPool2d"]
    assert pools == [(1, 8, 14, 14), (1, 16, 7, 7)]           # seed 001 lines 275-279: 28 -> 14 -> 7
    _m, bn = cp.recipe_table(cp.CnnRecipe(batchnorm=True))
    bn_rows = [r for r in bn.rows if r.kind == "BatchNorm2d"]
    assert [r.total_formula for r in bn_rows] == ["2 × 8 = 16", "2 × 16 = 32"]
    assert bn.total == bn.numel_total == 34522 + 48


def test_param_recipes_refuse_nonsense():
    with pytest.raises(ConvLabError, match="parameters"):
        cp.recipe_table(cp.CnnRecipe(height=512, width=512, hidden_sizes=(100000,)))
    with pytest.raises(ConvLabError, match="shrunk"):
        cp.build_cnn(cp.CnnRecipe(height=4, width=4, conv_channels=(8, 8, 8)))
    with pytest.raises(ConvLabError, match="whole numbers"):
        cp.parse_int_list("8, x", "conv channels")
    with pytest.raises(ConvLabError, match="at least 1"):
        cp.parse_int_list("8, 0", "conv channels")
    assert cp.parse_int_list("", "hidden sizes", allow_empty=True) == ()
    assert cp.parse_int_list("8 16;32", "conv channels") == (8, 16, 32)


# ------------------------------------------------------------------ autograd and loss


@pytest.mark.parametrize("seed", [0, 1, 123])
def test_logistic_regression_matches_lecture_cells(seed):
    g = ca.logistic_regression_grads(seed)
    # seed 000 lines 232-267, verbatim, after torch.manual_seed(seed)
    torch.manual_seed(seed)
    X = torch.randn(100, 3)
    y_true = torch.randint(2, size=(100, ))
    w = torch.randn(3, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    y = torch.sigmoid(X @ w + b)
    loss = -(1 - y_true) * torch.log(1 - y) - y_true * torch.log(y)
    loss = loss.sum()
    loss.backward()
    with torch.no_grad():
        w_grad = (-y_true / y + (1 - y_true) / (1 - y)) * y * (1 - y) @ X
        b_grad = ((-y_true / y + (1 - y_true) / (1 - y)) * y * (1 - y)).sum()
    assert np.array_equal(g.w_grad_autograd, w.grad.numpy()) and g.b_grad_autograd == b.grad.item()
    assert np.array_equal(g.w_grad_hand, w_grad.numpy()) and g.b_grad_hand == b_grad.item()
    assert g.loss == loss.item()
    assert g.max_abs_diff < 1e-4


def test_logistic_fit_prints_what_the_lecture_loop_prints():
    fit = ca.LogisticFit()
    fit.step(700)
    # seed 000 lines 327-393, verbatim, with the lecture's seeds
    np.random.seed(42)
    torch.manual_seed(42)

    def logistic(x, L, k, x0):
        return L / (1 + torch.exp(-k * (x - x0)))

    x = torch.linspace(0, 10, steps=100)
    y_true = logistic(x, 10.0, 1.5, 5.0)
    y_noisy = y_true + 2. * torch.randn_like(y_true)
    L = torch.tensor(5.0, requires_grad=True)
    k = torch.tensor(1.0, requires_grad=True)
    x0 = torch.tensor(-2.0, requires_grad=True)
    lr = 0.05
    printed = []
    for epoch in range(700):
        y_pred = logistic(x, L, k, x0)
        loss = torch.mean((y_pred - y_noisy) ** 2)
        loss.backward()
        with torch.no_grad():
            L -= lr * L.grad
            k -= lr * k.grad
            x0 -= lr * x0.grad
        L.grad.zero_()
        k.grad.zero_()
        x0.grad.zero_()
        if epoch % 50 == 0:
            printed.append(f"Epoch {epoch}: Loss = {loss.item():.4f}")
    printed.append(f"Learned parameters: L={L.item():.2f}, k={k.item():.2f}, x0={x0.item():.2f}")
    assert fit.lecture_log() + [fit.params_line()] == printed
    assert len(printed) == 15 and printed[0].startswith("Epoch 0: Loss = ")
    assert fit.params_line() == "Learned parameters: L=10.11, k=1.84, x0=5.09"


def test_logistic_fit_notices_divergence():
    fit = ca.LogisticFit(lr=5.0)
    fit.step(100)
    assert fit.diverged and fit.epoch < 100
    with pytest.raises(ConvLabError):
        ca.LogisticFit(lr=0)


def test_softmax_and_cross_entropy():
    r = ca.softmax_cross_entropy([2.0, 1.0, 0.1], 2)
    assert r.probs.sum() == pytest.approx(1.0)
    assert r.loss == pytest.approx(r.neg_log_p, abs=1e-12)
    assert round(r.loss, 1) == 2.3 and r.predicted == 0
    assert r.loss == pytest.approx(F.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([2])).item(),
                                   rel=1e-6)
    # seed 001 lines 168-175: -log(0.1) = 2.3, -log(0.9) = 0.1, -log(1) = 0, -log(0) = inf
    for p, shown in ca.LECTURE_CE_POINTS:
        value = -math.log(p) if p > 0 else math.inf
        assert (value == shown) if math.isinf(shown) else round(value, 1) == shown
    with pytest.raises(ConvLabError, match="between 0 and 2"):
        ca.softmax_cross_entropy([1.0, 2.0, 3.0], 3)
    with pytest.raises(ConvLabError):
        ca.softmax_cross_entropy([1.0, float("nan")], 0)
    big = ca.softmax_cross_entropy([1000.0, 0.0], 1)          # F.cross_entropy stays finite
    assert big.loss == pytest.approx(1000.0)
