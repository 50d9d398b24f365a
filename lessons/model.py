"""The course's CIFAR-10 network, `Tudui` (P22 搭建小实战, P27 model.py).

Every lesson from P22 on imports it from here:  `from model import Tudui`.
The layers live in `self.model = nn.Sequential(...)`, so the `state_dict` keys are
exactly the course's (`model.0.weight`, `model.0.bias`, ..., `model.8.bias`): a
checkpoint made by the course's code loads into this class and vice versa.

Run it to check the shapes:  python lessons/model.py
"""
import torch
from torch import nn


class Tudui(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2),   # (N, 3, 32, 32) -> (N, 32, 32, 32)
            nn.MaxPool2d(2),                  # -> (N, 32, 16, 16)
            nn.Conv2d(32, 32, 5, padding=2),  # -> (N, 32, 16, 16)
            nn.MaxPool2d(2),                  # -> (N, 32, 8, 8)
            nn.Conv2d(32, 64, 5, padding=2),  # -> (N, 64, 8, 8)
            nn.MaxPool2d(2),                  # -> (N, 64, 4, 4)
            nn.Flatten(),                     # -> (N, 1024)
            nn.Linear(64 * 4 * 4, 64),        # -> (N, 64)
            nn.Linear(64, num_classes),       # -> (N, num_classes)
        )

    def forward(self, x):
        return self.model(x)


if __name__ == "__main__":
    tudui = Tudui()
    x = torch.ones((64, 3, 32, 32))
    print(tudui(x).shape)  # torch.Size([64, 10])
