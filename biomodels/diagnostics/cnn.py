"""Image classifiers for small grey images: a compact conv net and ResNet-18 for 28 x 28 inputs.

Both expose ``embed(x)`` (the penultimate features, used for the Frechet distance of generated
images) and ``forward(x) = head(embed(x))`` (class logits), and both export to ONNX
(:class:`ImageExport`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["BasicBlock", "ImageExport", "ResNet18", "SmallCNN"]


def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class ImageExport:
    """The :class:`~biomodels.nn.export.Exportable` protocol of an image net's ``forward``:
    one input ``x`` (``B x C x H x W``, batch, height and width dynamic), the logits out."""

    export_method = "forward"
    export_outputs = ("logits",)

    def export_example(self) -> tuple[Tensor]:
        first = next(m for m in self.modules() if isinstance(m, nn.Conv2d))
        return (torch.zeros(2, first.in_channels, 28, 32),)

    def export_inputs(self, x: Tensor) -> dict[str, Tensor]:
        return {"x": x}

    def export_call(self, x: Tensor) -> Tensor:
        return self(x)

    def export_dynamic(self) -> dict[str, dict[int, str]]:
        return {"x": {0: "images", 2: "height", 3: "width"}}


class SmallCNN(ImageExport, nn.Module):
    """Blocks of conv3x3-BN-ReLU + 2x2 max-pool, then global average pool, dropout, linear head.

    Args:
        in_channels: image channels (1 for grey).
        n_classes: number of classes.
        channels: output channels of each block; each block halves the resolution.
        dropout: dropout before the linear head.

    Shapes:
        x: ``B x in_channels x H x W`` (normalised); ``embed``: ``B x channels[-1]``;
        ``forward``: ``B x n_classes`` logits.
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        channels: Sequence[int] = (32, 64, 128),
        dropout: float = 0.3,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out in zip([in_channels, *channels[:-1]], channels, strict=True):
            layers += [*_conv_bn_relu(c_in, c_out), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels[-1], n_classes))

    def embed(self, x: Tensor) -> Tensor:
        return self.features(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.embed(x))


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block: two 3x3 convs with BN, identity or 1x1-conv shortcut.

    Shapes:
        x: ``B x c_in x H x W`` -> ``B x c_out x H/stride x W/stride``.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn_relu(c_in, c_out, stride),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet18(ImageExport, nn.Module):
    """ResNet-18 (BasicBlock x [2, 2, 2, 2]) adapted to small images, trained from scratch.

    As torchvision's ``resnet18`` except for the stem: a 3x3 stride-1 convolution and no max-pool
    (the 7x7 stride-2 stem and pool would shrink a 28 x 28 image to 7 x 7 before the first
    block). Stages have ``width x (1, 2, 4, 8)`` channels; ``width=64`` is the original.

    Args:
        in_channels: image channels.
        n_classes: number of classes.
        width: channels of the first stage.
        dropout: dropout before the linear head (0 as in torchvision).

    Shapes:
        x: ``B x in_channels x H x W``; ``embed``: ``B x 8 width``; ``forward``: ``B x n_classes``.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 2, width: int = 64, dropout: float = 0.0):
        super().__init__()
        widths = [width, 2 * width, 4 * width, 8 * width]
        layers: list[nn.Module] = _conv_bn_relu(in_channels, width)
        c_in = width
        for stage, c_out in enumerate(widths):
            for block in range(2):
                layers.append(BasicBlock(c_in, c_out, stride=2 if stage > 0 and block == 0 else 1))
                c_in = c_out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(widths[-1], n_classes))

    def embed(self, x: Tensor) -> Tensor:
        return self.features(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.embed(x))
