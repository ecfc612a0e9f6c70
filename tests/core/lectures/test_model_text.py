"""print(model) as the lectures printed it, for any registered model."""

from studio.core.lectures.model_text import model_text


def test_lecture_format_drops_the_newer_batchnorm_bias_field():
    text = model_text("lecture-cnn")
    assert "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)" in text
    assert "bias=True, track" not in text
    assert text.startswith("LectureCNN(")


def test_any_model_any_size():
    assert "(fc1): Linear(in_features=9216, out_features=4096, bias=True)" in model_text("alexnet", (3, 227, 227))
    assert "Linear(in_features=1024, out_features=32, bias=True)" in model_text(
        "configurable-cnn", options={"conv_channels": [8, 16], "kernel_size": 3, "hidden_sizes": [32]})
