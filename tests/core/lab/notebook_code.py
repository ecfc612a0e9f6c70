"""Seed 002's PytorchCNN copied word for word from the notebook: the reference the tests compare against."""

import torch
import torch.nn as nn


class NotebookPytorchCNN(nn.Module):              # seed 002, class PytorchCNN
    def __init__(self, in_channels, conv_channels, kernel_size, hidden_sizes, n_output, input_height, input_width):
        super().__init__()
        layers = []
        c_in = in_channels
        h, w = input_height, input_width
        for c_out in conv_channels:
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=kernel_size, padding=kernel_size // 2))
            layers.append(nn.ReLU())
            layers.append(nn.MaxPool2d(kernel_size=2))
            h //= 2
            w //= 2
            c_in = c_out
        self.features = nn.Sequential(*layers)
        d_flat = c_in * h * w
        fc_layers = []
        in_features = d_flat
        for h_size in hidden_sizes:
            fc_layers.append(nn.Linear(in_features, h_size))
            fc_layers.append(nn.ReLU())
            in_features = h_size
        fc_layers.append(nn.Linear(in_features, n_output))
        self.classifier = nn.Sequential(*fc_layers)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, start_dim=1)
        x = self.classifier(x)
        return x
