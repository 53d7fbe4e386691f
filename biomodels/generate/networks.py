"""The generative networks: a token-level LSTM language model and a GRU sequence VAE.

Both read padded id tensors (``B x L``, ``0 = <pad>``, first column ``<bos>``) and return
next-token logits (``B x L x V``, ``V`` the vocabulary size). :func:`generate` samples either
network token by token through its :meth:`step`.

- :class:`CharRNN`: embedding -> stacked LSTM -> linear, as MOSES's CharRNN
  (``moses/char_rnn/model.py``: 3 layers of 768, dropout 0.2).
- :class:`SequenceVAE`: a bidirectional GRU encoder to ``mu, log_var`` (``B x Z``), and a GRU
  decoder fed the latent ``z`` at every step and as its initial state, as MOSES's VAE
  (``moses/vae/model.py``: Gomez-Bombarelli et al. 2018 with GRUs).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CharRNN", "SequenceVAE", "generate", "token_nll"]

State = object
StepFn = Callable[[torch.Tensor, State], tuple[torch.Tensor, State]]


def token_nll(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of each sequence (``B``), summed over its tokens after ``<bos>``.

    Args:
        logits: ``B x L x V``, the predictions for positions 1..L of ``ids``.
        ids: ``B x (L + 1)`` padded ids (``0`` = padding, not counted).
    """
    targets = ids[:, 1:]
    nll = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=0, reduction="none")
    return nll.sum(dim=1)


class CharRNN(nn.Module):
    """Token-level LSTM language model.

    Shapes:
        ``forward(ids: B x L) -> logits: B x L x V`` (the prediction of token ``t + 1`` at ``t``).
    """

    def __init__(self, vocab_size: int, embedding: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.lstm = nn.LSTM(
            embedding, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
        )
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out)

    def loss(self, ids: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean next-token cross-entropy of a batch (``B x L`` ids), and its parts."""
        nll = token_nll(self(ids[:, :-1]), ids)
        tokens = (ids[:, 1:] != 0).sum()
        loss = nll.sum() / tokens
        return loss, {"nll": loss.item()}

    def nll(self, ids: torch.Tensor) -> torch.Tensor:
        """Per-sequence negative log-likelihood (``B``)."""
        return token_nll(self(ids[:, :-1]), ids)

    def start(self, batch: int) -> State:
        """The recurrent state before ``<bos>`` (None: zeros)."""
        return None

    def step(self, ids: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One token per sequence (``B``) -> next-token logits (``B x V``) and the new state."""
        out, state = self.lstm(self.embedding(ids[:, None]), state)
        return self.head(out[:, 0]), state


class SequenceVAE(nn.Module):
    """GRU variational autoencoder over token sequences.

    Shapes:
        ``encode(ids: B x L) -> (mu, log_var): B x Z``; ``decode(ids: B x L, z: B x Z) ->
        logits: B x L x V``.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding: int,
        encoder_hidden: int,
        hidden: int,
        layers: int,
        latent: int,
        dropout: float,
    ):
        super().__init__()
        self.layers, self.hidden, self.latent = layers, hidden, latent
        self.embedding = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.encoder = nn.GRU(embedding, encoder_hidden, batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * encoder_hidden, 2 * latent)
        self.to_state = nn.Linear(latent, layers * hidden)
        self.decoder = nn.GRU(
            embedding + latent, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
        )
        self.head = nn.Linear(hidden, vocab_size)

    def encode(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = (ids != 0).sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(ids), lengths, batch_first=True, enforce_sorted=False
        )
        _, last = self.encoder(packed)  # 2 x B x H: the last state of each direction
        mu, log_var = self.to_latent(torch.cat([last[0], last[1]], dim=1)).chunk(2, dim=1)
        return mu, log_var

    def initial_state(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's ``layers x B x H`` initial state from ``z``."""
        return self.to_state(z).view(len(z), self.layers, self.hidden).transpose(0, 1).contiguous()

    def decode(self, ids: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        inputs = torch.cat([self.embedding(ids), z[:, None].expand(-1, ids.shape[1], -1)], dim=2)
        out, _ = self.decoder(inputs, self.initial_state(z))
        return self.head(out)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mu, log_var = self.encode(ids)
        z = mu + torch.randn_like(mu) * (0.5 * log_var).exp() if self.training else mu
        return self.decode(ids[:, :-1], z)

    def kl(self, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """KL divergence of ``N(mu, exp(log_var))`` from ``N(0, I)``, per sequence (``B``)."""
        return 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(dim=1)

    def loss(self, ids: torch.Tensor, kl_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
        """Reconstruction (per token) + ``kl_weight`` x KL (per sequence, over the mean length)."""
        mu, log_var = self.encode(ids)
        z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
        recon = token_nll(self.decode(ids[:, :-1], z), ids)
        tokens = (ids[:, 1:] != 0).sum()
        kl = self.kl(mu, log_var)
        loss = (recon.sum() + kl_weight * kl.sum()) / tokens
        return loss, {"nll": (recon.sum() / tokens).item(), "kl": kl.mean().item()}

    def nll(self, ids: torch.Tensor) -> torch.Tensor:
        """Per-sequence negative ELBO with ``z = mu`` (reconstruction + KL), ``B``."""
        mu, log_var = self.encode(ids)
        return token_nll(self.decode(ids[:, :-1], mu), ids) + self.kl(mu, log_var)

    def start(
        self, batch: int, z: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> State:
        """Sampling state: ``z`` (``B x Z``; drawn from the prior when None) and its GRU state."""
        if z is None:
            z = torch.randn(batch, self.latent, generator=generator, device=self.head.weight.device)
        return z, self.initial_state(z)

    def step(self, ids: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        z, hidden = state
        inputs = torch.cat([self.embedding(ids[:, None]), z[:, None]], dim=2)
        out, hidden = self.decoder(inputs, hidden)
        return self.head(out[:, 0]), (z, hidden)


@torch.no_grad()
def generate(
    step: StepFn,
    state: State,
    batch: int,
    max_length: int,
    bos: int,
    eos: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Sample ``batch`` sequences token by token; ``temperature <= 0`` takes the likeliest token.

    Returns:
        ``batch x T`` ids (``T <= max_length``) without the ``<bos>``; a row stops at its
        ``<eos>`` (later positions are padding), or runs to ``max_length`` without one.
    """
    ids = torch.full((batch,), bos, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    out = []
    for _ in range(max_length):
        logits, state = step(ids, state)
        if temperature > 0:
            probs = torch.softmax(logits / temperature, dim=-1)
            ids = torch.multinomial(probs, 1, generator=generator)[:, 0]
        else:
            ids = logits.argmax(dim=-1)
        ids = ids.masked_fill(done, 0)
        out.append(ids)
        done |= ids == eos
        if bool(done.all()):
            break
    return torch.stack(out, dim=1)
