"""CNN Studio: train convolutional neural networks on images and see what they learn."""

__version__ = "0.1.0"
