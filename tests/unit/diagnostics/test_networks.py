"""The torch networks: output shapes, attention properties, augmentation, and tiny-batch overfitting."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from biomodels.diagnostics.attention import AttentionPooling
from biomodels.diagnostics.augment import ImageAugment
from biomodels.diagnostics.autoencoder import ConvAutoencoder, DenseAutoencoder
from biomodels.diagnostics.cnn import ResNet18, SmallCNN
from biomodels.diagnostics.gan import ConditionalGAN, gan_forward, gan_loss
from biomodels.diagnostics.rnn import RNNTextClassifier
from biomodels.diagnostics.transformer import TransformerTextClassifier


def _tokens(batch: int = 6, width: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids with different lengths per row (padding = 0 at the end)."""
    torch.manual_seed(0)
    ids = torch.randint(2, 40, (batch, width))
    lengths = torch.tensor([9, 5, 1, 7, 3, 9][:batch])
    mask = torch.arange(width)[None] < lengths[:, None]
    return ids.masked_fill(~mask, 0), mask


def _overfit(model: torch.nn.Module, loss_fn, steps: int = 60, lr: float = 3e-3) -> tuple[float, float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    first = None
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn()
        first = loss.item() if first is None else first
        loss.backward()
        optimizer.step()
    return first, loss.item()


# Networks are built inside each test, after seeding: built at collection, their initial weights
# would depend on whatever drew from torch's random state before (other modules, test order).
@pytest.mark.parametrize("build", [lambda: SmallCNN(1, 3, (8, 16, 16)), lambda: ResNet18(1, 3, width=4)])
def test_image_classifiers_shapes_and_overfit(build) -> None:
    torch.manual_seed(0)
    net = build()
    x, y = torch.randn(8, 1, 28, 28), torch.arange(8) % 3
    assert net(x).shape == (8, 3)
    assert net.embed(x).shape[0] == 8
    first, last = _overfit(net, lambda: F.cross_entropy(net(x), y))
    net.eval()
    assert last < 0.1 * first
    assert (net(x).argmax(1) == y).all()


def test_resnet18_has_torchvision_layout() -> None:
    net = ResNet18(1, 2)
    blocks = [m for m in net.modules() if type(m).__name__ == "BasicBlock"]
    assert len(blocks) == 8
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0].kernel_size == (3, 3) and convs[0].stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in net.modules())
    assert net.embed(torch.zeros(2, 1, 28, 28)).shape == (2, 512)


@pytest.mark.parametrize("heads", [1, 3])
def test_attention_pooling_weights_sum_to_one_and_skip_padding(heads: int) -> None:
    ids, mask = _tokens()
    h = torch.randn(*ids.shape, 16)
    pooled, weights = AttentionPooling(16, heads=heads)(h, mask)
    assert pooled.shape == (6, 16 * heads) and weights.shape == ids.shape
    torch.testing.assert_close(weights.sum(1), torch.ones(6))
    assert (weights[~mask] == 0).all() and (weights[mask] > 0).all()


@pytest.mark.parametrize(
    "build",
    [
        lambda: RNNTextClassifier(40, 4, embed_dim=16, hidden=16, cell="gru", pool_heads=2),
        lambda: RNNTextClassifier(40, 4, embed_dim=16, hidden=16, cell="lstm"),
        lambda: TransformerTextClassifier(40, 4, d_model=16, heads=2, layers=1, ff_dim=32, max_len=16),
    ],
)
def test_text_classifiers_attention_and_overfit(build) -> None:
    ids, mask = _tokens()  # seeds torch
    net = build()
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    net.eval()
    logits, weights = net.forward_with_attention(ids, mask)
    assert logits.shape == (6, 4)
    torch.testing.assert_close(weights.sum(1), torch.ones(6))
    assert (weights[~mask] == 0).all()
    # padding does not change a text's output: the row of length 1 alone gives the same logits
    alone = net(ids[2:3, :1], mask[2:3, :1])
    torch.testing.assert_close(alone, logits[2:3], atol=1e-5, rtol=1e-4)
    net.train()
    first, last = _overfit(net, lambda: F.cross_entropy(net(ids, mask), y), steps=80, lr=1e-2)
    assert last < 0.05 * first


def test_transformer_attention_maps() -> None:
    ids, mask = _tokens()
    net = TransformerTextClassifier(40, 4, d_model=16, heads=2, layers=2, ff_dim=32, max_len=16).eval()
    maps = net.attention_maps(ids, mask)
    assert len(maps) == 2 and maps[0].shape == (6, 2, 9, 9)
    torch.testing.assert_close(maps[1].sum(-1).transpose(1, 2)[mask], torch.ones(int(mask.sum()), 2))
    assert (maps[0].permute(0, 2, 3, 1)[~mask[:, None, :].expand(-1, 9, -1)] == 0).all()


@pytest.mark.parametrize(
    ("build", "shape"),
    [
        (lambda: ConvAutoencoder(1, 28, latent_dim=8, channels=(8, 16)), (8, 1, 28, 28)),
        (lambda: DenseAutoencoder(20, hidden=(32,), latent_dim=4), (8, 20)),
    ],
)
def test_autoencoders_shapes_and_overfit(build, shape) -> None:
    torch.manual_seed(0)
    net, x = build(), torch.randn(*shape)
    assert net(x).shape == x.shape and net.encode(x).shape[1] in (8, 4)
    first, last = _overfit(net, lambda: F.mse_loss(net(x), x), steps=150, lr=1e-2)
    assert last < 0.2 * first


def test_gan_steps_alternate_and_reach_only_their_network() -> None:
    torch.manual_seed(0)
    model = ConditionalGAN(z_dim=8, n_classes=2, image_size=28, g_channels=16, d_channels=8, d_steps=2)
    batch = {"x": torch.rand(4, 1, 28, 28) * 2 - 1, "y": torch.tensor([0, 1, 0, 1])}
    turns = []
    for _ in range(6):
        model.zero_grad(set_to_none=True)
        out = gan_forward(model, batch)
        assert out["fake"].shape == (4, 1, 28, 28) and out["fake"].abs().max() <= 1
        gan_loss(out, batch).backward()
        g_grad = any(p.grad is not None for p in model.generator.parameters())
        d_grad = any(p.grad is not None for p in model.discriminator.parameters())
        assert g_grad != d_grad
        turns.append("g" if g_grad else "d")
        assert ("mode_seeking" in out) == g_grad
    assert turns == ["d", "d", "g", "d", "d", "g"]
    model.eval()
    out = gan_forward(model, batch)
    assert {"real", "fake_detached", "fake_for_generator"} <= set(out) and model.updates == 6


def test_gan_learns_class_conditional_tiny_set() -> None:
    """Class 0 is black, class 1 is white: the generator must follow the label."""
    torch.manual_seed(0)
    model = ConditionalGAN(
        z_dim=8, n_classes=2, image_size=28, g_channels=16, d_channels=8, d_steps=1, ema_decay=0.0
    )
    x = torch.cat([torch.full((8, 1, 28, 28), -0.9), torch.full((8, 1, 28, 28), 0.9)])
    y = torch.tensor([0] * 8 + [1] * 8)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(100):
        optimizer.zero_grad(set_to_none=True)
        batch = {"x": x, "y": y}
        gan_loss(gan_forward(model, batch), batch).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        fake = model(torch.randn(16, 8), y)
    assert fake[:8].mean() < -0.3 and fake[8:].mean() > 0.3, (fake[:8].mean(), fake[8:].mean())


def test_augment_keeps_shape_and_changes_images() -> None:
    torch.manual_seed(0)
    x = torch.rand(5, 1, 28, 28)
    out = ImageAugment(degrees=10, pad=2)(x)
    assert out.shape == x.shape
    assert not torch.allclose(out, x)
    identity = ImageAugment(degrees=0, scale=(1.0, 1.0), pad=0)(x)
    torch.testing.assert_close(identity, x, atol=1e-5, rtol=0)
    flipped = ImageAugment(degrees=0, scale=(1.0, 1.0), pad=0, hflip=True)(x)
    kept = [torch.allclose(f, o, atol=1e-5) for f, o in zip(flipped, x, strict=True)]
    mirrored = [torch.allclose(f, o.flip(-1), atol=1e-5) for f, o in zip(flipped, x, strict=True)]
    assert all(k or m for k, m in zip(kept, mirrored, strict=True)) and any(mirrored)
