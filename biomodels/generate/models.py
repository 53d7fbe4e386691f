"""The generative model families behind the estimator protocol: ``charrnn`` and ``vae``.

Both are :class:`~biomodels.train.estimator.Estimator` subclasses registered in
:data:`~biomodels.registry.MODELS` (input kind ``smiles``), so they save to and load from a run
directory's ``model/`` folder (safetensors weights + ``model.json`` with the vocabulary) and
:func:`biomodels.train.run.load_run` reads them. Beyond ``fit/predict/evaluate``:

- :meth:`GenerativeModel.sample`: ``n`` new molecules, one row each (``smiles`` canonical or
  empty, ``raw`` as generated, ``valid``, ``error``);
- :meth:`VAEModel.interpolate`: molecules decoded along the line between two molecules' latent
  means.

``predict`` scores given molecules: their negative log-likelihood under the model (``nll``, in
nats; the VAE's is the negative ELBO with ``z = mu``), every input row kept, a molecule that
cannot be tokenised or holds a token outside the vocabulary getting that as its ``error``.

Training (:meth:`GenerativeModel.fit`) streams a :class:`~biomodels.generate.corpus.SmilesCorpus`
epoch by epoch with this project's :class:`~biomodels.train.optim.Adam`; ``on_epoch`` is called
after each epoch (the workflow writes a checkpoint there) and :meth:`resume_training` restores
the optimiser so a killed run continues where its last checkpoint left it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from torch import nn

from biomodels.exceptions import InputError
from biomodels.generate.corpus import SmilesCorpus, pad_batch
from biomodels.generate.networks import CharRNN, SequenceVAE, generate
from biomodels.generate.tokens import REPRESENTATIONS, Representation, TokenError, Vocabulary
from biomodels.io.molecules import MoleculeParser, RawRecord, records_from
from biomodels.train.estimator import Estimator
from biomodels.train.optim import Adam
from biomodels.train.trainer import resolve_device

logger = logging.getLogger(__name__)

__all__ = ["SAMPLE_COLUMNS", "CharRNNModel", "GenerativeModel", "RowProgress", "VAEModel", "molecules_of"]

SAMPLE_COLUMNS = ("smiles", "raw", "valid", "error")
EpochHook = Callable[[int, "GenerativeModel"], None]
_CLIP = 5.0
"""Gradient norm clipping of the language models' training."""
ARCHITECTURE = ("representation", "max_length", "embedding", "hidden", "layers", "latent")
"""The parameters that shape a network: continued training (:meth:`restart_training`) keeps them."""


def molecules_of(strings: Sequence[str], ended: Sequence[bool] | None = None) -> pd.DataFrame:
    """The :data:`SAMPLE_COLUMNS` of generated SMILES strings: RDKit parses each, ``smiles`` is
    its canonical form (empty when invalid) and ``error`` says why a row is invalid.

    Args:
        strings: the SMILES to check (a SELFIES model's decoded SMILES).
        ended: whether each string's generation ended with ``<eos>`` (False: it hit the length limit).
    """
    parsed = MoleculeParser().parse_chunk(RawRecord(i, None, s) for i, s in enumerate(strings))
    smiles, errors = [], []
    for i, record in enumerate(parsed):
        error = record.error if record.mol is None else None
        if ended is not None and not ended[i]:
            error = "generation reached max_length without an end token" + (f" ({error})" if error else "")
        smiles.append("" if error else Chem.MolToSmiles(record.mol))
        errors.append(error)
    return pd.DataFrame({"smiles": smiles, "valid": [e is None for e in errors], "error": errors})


class GenerativeModel(Estimator):
    """Shared training, scoring, sampling and persistence of the token language models.

    Subclasses build their network (:meth:`_new_network`), say how a batch's loss is computed
    (:meth:`_batch_loss`) and where sampling starts (:meth:`_start`).
    """

    input_kind: ClassVar[str] = "smiles"
    _positive = ("epochs", "batch_size", "lr", "max_length", "embedding", "hidden", "layers")

    # ----------------------------------------------------------------- hooks
    def _new_network(self) -> nn.Module:
        raise NotImplementedError

    def _batch_loss(self, ids: torch.Tensor, done: float) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss of a training batch; ``done`` is the fraction of training finished (annealing)."""
        return self.network_.loss(ids)

    def _start(self, batch: int, generator: torch.Generator) -> Any:
        return self.network_.start(batch)

    # ------------------------------------------------------------- learned state
    @property
    def representation_(self) -> Representation:
        return REPRESENTATIONS.get(self.representation)()

    def check_params(self) -> None:
        super().check_params()
        REPRESENTATIONS.get(self.representation)  # an unknown name lists the valid ones
        if self.lr_end is not None and not 0 < self.lr_end <= self.lr:
            raise InputError(None, f"{self.name}: lr_end must be in (0, lr={self.lr}], got {self.lr_end!r}")

    def history(self) -> list[dict[str, Any]]:
        return [list(getattr(self, "history_", []))] if self.is_fitted else []

    # ------------------------------------------------------------------ training
    def fit(self, data: Any, val: Any = None, on_epoch: EpochHook | None = None) -> GenerativeModel:
        """Learn the molecules of ``data`` (a :class:`SmilesCorpus` or a list of SMILES).

        A corpus that holds out validation rows is scored on them after each epoch (``val`` is
        not used: the corpus holds its own split). Invalid rows are counted, not fatal.

        Raises:
            InputError: no row of ``data`` is usable (each row's reason is in the message counts).
        """
        self.check_params()
        corpus = data if isinstance(data, SmilesCorpus) else SmilesCorpus(list(data), holdout=False)
        scan = corpus.scan_ or corpus.scan(self.representation_, self.max_length)
        if not scan.train:
            reasons = "; ".join(f"{k} ({v})" for k, v in scan.invalid.items()) or "no rows"
            raise InputError(corpus.path, f"no usable training SMILES among {scan.rows} rows: {reasons}")
        if not getattr(self, "resuming_", False):
            self.vocabulary_ = Vocabulary(scan.tokens)
            torch.manual_seed(self.seed)
            self.network_ = self._new_network()
            self.optimizer_ = Adam(self.network_.parameters(), lr=self.lr)
            self.history_, self.epochs_done_ = [], 0
        self.resuming_ = False
        self.fitted_ = True  # the network exists: the per-epoch validation scores it
        self.corpus_summary_ = scan.summary()
        self.network_.to(self._device())
        for epoch in range(self.epochs_done_, self.epochs):
            self.history_.append(self._train_epoch(corpus, epoch, scan.train))
            self.epochs_done_ = epoch + 1
            if on_epoch is not None:
                on_epoch(epoch, self)
        self.network_.eval()
        return self

    def resume_training(self, optimizer_state: dict[str, torch.Tensor]) -> GenerativeModel:
        """Make the next :meth:`fit` continue this loaded checkpoint (its epochs, its optimiser)."""
        self.optimizer_ = Adam(self.network_.parameters(), lr=self.lr)
        self.optimizer_.load_state_dict(optimizer_state)
        self.resuming_ = True
        return self

    def fine_tune(
        self, smiles: Sequence[str], epochs: int, lr: float | None = None, batch_size: int | None = None
    ) -> GenerativeModel:
        """Transfer learning: train this fitted model further on ``smiles`` for ``epochs``, with a
        fresh optimiser (``lr``, ``batch_size``: the model's own when None) and its vocabulary kept:
        a molecule with a token outside it is skipped with a count in the log.

        Raises:
            InputError: no molecule of ``smiles`` is usable.
        """
        self.restart_training(
            epochs=epochs,
            **({"lr": lr} if lr is not None else {}),
            **({"batch_size": batch_size} if batch_size is not None else {}),
        )
        return self.fit(list(smiles))

    def restart_training(self, **params: Any) -> GenerativeModel:
        """Make the next :meth:`fit` train this fitted model further: its weights and vocabulary
        kept, a fresh optimiser and learning-rate schedule over ``epochs`` new epochs (the
        model's own count unless ``params`` sets it). ``params`` may change the training settings
        (``epochs``, ``lr``, ``lr_end``, ``batch_size``...), not the architecture.

        Raises:
            InputError: an architecture parameter that differs from this model's.
        """
        self._check_fitted()
        changed = [k for k in ARCHITECTURE if k in params and params[k] != getattr(self, k, None)]
        if changed:
            raise InputError(
                None,
                f"{self.name}: continued training keeps the architecture; "
                + ", ".join(f"{k} is {getattr(self, k, None)!r}, not {params[k]!r}" for k in changed),
            )
        self.set_params(**params)
        self.check_params()
        self.optimizer_ = Adam(self.network_.parameters(), lr=self.lr)
        self.history_, self.epochs_done_, self.resuming_ = [], 0, True
        return self

    def _train_epoch(self, corpus: SmilesCorpus, epoch: int, rows: int) -> dict[str, float]:
        device = self._device()
        torch.manual_seed(self.seed * 1_000 + epoch)  # dropout and the VAE's noise, per epoch
        rng = np.random.default_rng([self.seed, epoch])
        steps_per_epoch = max(1, math.ceil(rows / self.batch_size))
        self.network_.train()
        totals: dict[str, float] = {}
        tokens = seen = 0
        started = time.perf_counter()
        with RowProgress(f"epoch {epoch + 1}/{self.epochs}", rows, self.progress) as progress:
            batches = corpus.batches("train", self.representation_, self.vocabulary_, self.batch_size, rng)
            for step, ids in enumerate(batches):
                ids = ids.to(device)
                done = (epoch * steps_per_epoch + step) / (self.epochs * steps_per_epoch)
                loss, parts = self._batch_loss(ids, done)
                self.optimizer_.lr = self._learning_rate(done)
                self.optimizer_.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.network_.parameters(), _CLIP)
                self.optimizer_.step()
                batch_tokens = int((ids[:, 1:] != 0).sum())
                for key, value in parts.items():
                    totals[key] = totals.get(key, 0.0) + value * batch_tokens
                tokens += batch_tokens
                seen += len(ids)
                progress.advance(
                    len(ids), f"loss {loss.item():.3f}  {tokens / (time.perf_counter() - started):,.0f} tok/s"
                )
        seconds = time.perf_counter() - started
        record = {"epoch": epoch + 1, "molecules": seen, "tokens": tokens, "seconds": seconds}
        record.update({f"train_{k}": v / max(tokens, 1) for k, v in totals.items()})
        record["tokens_per_s"] = tokens / max(seconds, 1e-9)
        val = [s for _, s in corpus.smiles("val")] if corpus.holdout else []
        if val:
            scores = self.evaluate(val)
            record["val_nll_per_token"] = scores["nll_per_token"]
        logger.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in record.items()})
        return record

    def _learning_rate(self, done: float) -> float:
        """``lr`` at the start, cosine-decayed to ``lr_end`` at the end of training (constant
        when ``lr_end`` is None): a prior's last steps at a small rate give likelier samples."""
        if self.lr_end is None:
            return self.lr
        return self.lr_end + 0.5 * (self.lr - self.lr_end) * (1 + math.cos(math.pi * min(done, 1.0)))

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    # ------------------------------------------------------------------- scoring
    def predict(self, data: Any) -> pd.DataFrame:
        """Every input molecule, in order: ``row``, ``smiles``, ``tokens``, ``nll``, ``error``."""
        self._check_fitted()
        raws = records_from(data)
        rows = []
        encoded: list[tuple[int, list[int]]] = []
        for raw in raws:
            text = (raw.text or "").strip()
            error = None
            try:
                ids = self.vocabulary_.encode(self.representation_.tokenize(text))
                encoded.append((len(rows), ids))
            except TokenError as exc:
                error = str(exc)
            rows.append({"row": raw.row, "smiles": text, "tokens": np.nan, "nll": np.nan, "error": error})
        self.network_.eval()
        with torch.no_grad():
            for start in range(0, len(encoded), 512):
                block = encoded[start : start + 512]
                nll = self.network_.nll(pad_batch([ids for _, ids in block]).to(self._device())).cpu()
                for (index, ids), value in zip(block, nll.tolist(), strict=True):
                    rows[index]["tokens"], rows[index]["nll"] = len(ids) - 1, value
        return pd.DataFrame(rows, columns=["row", "smiles", "tokens", "nll", "error"])

    def evaluate(self, data: Any) -> dict[str, Any]:
        """Mean negative log-likelihood per molecule and per token of ``data``'s molecules."""
        table = self.predict(data)
        scored = table[table["error"].isna()]
        total = float(scored["nll"].sum())
        return {
            "nll": total / len(scored) if len(scored) else math.nan,
            "nll_per_token": total / float(scored["tokens"].sum()) if len(scored) else math.nan,
            "molecules": len(scored),
            "failed": len(table) - len(scored),
        }

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        n: int,
        seed: int = 0,
        temperature: float = 1.0,
        batch_size: int = 1_000,
        progress: Callable[[int], None] | None = None,
    ) -> pd.DataFrame:
        """``n`` generated molecules: :data:`SAMPLE_COLUMNS`, one row each (none is dropped).

        Args:
            temperature: softmax temperature (1: the model's distribution; lower: likelier,
                less diverse molecules; 0: always the likeliest token).
            progress: ``advance(k)`` called after each batch of ``k`` molecules.
        """
        self._check_fitted()
        if n < 0 or temperature < 0:
            raise InputError(
                None, f"sample needs n >= 0 and temperature >= 0, got n={n}, temperature={temperature}"
            )
        generator = torch.Generator(device=self._device()).manual_seed(seed)
        self.network_.eval()
        frames = []
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            frames.append(self.sample_tokens(size, generator, temperature)[1])
            if progress is not None:
                progress(size)
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in SAMPLE_COLUMNS})
        return pd.concat(frames, ignore_index=True)

    def sample_tokens(
        self, n: int, generator: torch.Generator, temperature: float = 1.0
    ) -> tuple[torch.Tensor, pd.DataFrame]:
        """``n`` generated sequences and their molecules.

        Returns:
            ``(ids, table)``: ``n x (T + 1)`` ids starting with ``<bos>`` (padded after each
            ``<eos>``: the input of the network's ``nll``, so the likelihood of what was
            sampled can be differentiated), and :data:`SAMPLE_COLUMNS`, one row per sequence.
        """
        ids = self._generate(self._start(n, generator), n, temperature, generator)
        bos = torch.full((n, 1), self.vocabulary_.bos, dtype=ids.dtype, device=ids.device)
        return torch.cat([bos, ids], dim=1), self._decode(ids)

    def _generate(
        self, state: Any, size: int, temperature: float, generator: torch.Generator
    ) -> torch.Tensor:
        vocab = self.vocabulary_
        return generate(
            self.network_.step, state, size, self.max_length + 1, vocab.bos, vocab.eos, temperature,
            generator, self._device(),
        )  # fmt: skip

    def _decode(self, ids: torch.Tensor) -> pd.DataFrame:
        decoded = [self.vocabulary_.decode(row) for row in ids.cpu().tolist()]
        rep = self.representation_
        table = molecules_of([rep.to_smiles(t) for t, _ in decoded], [ended for _, ended in decoded])
        table.insert(1, "raw", [rep.raw(t) for t, _ in decoded])
        return table[list(SAMPLE_COLUMNS)]

    # --------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        return {
            "vocabulary": self.vocabulary_.tokens,
            "epochs_done": self.epochs_done_,
            "history": self.history_,
            "corpus": getattr(self, "corpus_summary_", {}),
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        tokens = state["vocabulary"]
        self.vocabulary_ = Vocabulary(tokens)
        if self.vocabulary_.tokens != tokens:
            raise ValueError("the saved vocabulary is not in the order this biomodels writes")
        self.epochs_done_ = int(state["epochs_done"])
        self.history_ = list(state["history"])
        self.corpus_summary_ = dict(state.get("corpus", {}))

    def _modules(self) -> list[nn.Module]:
        return [self.network_]

    def _build_modules(self, n: int) -> list[nn.Module]:
        return [self._new_network() for _ in range(n)]

    def _set_modules(self, modules: list[nn.Module]) -> None:
        self.network_ = modules[0].to(self._device())


class CharRNNModel(GenerativeModel):
    """``charrnn``: a token-level LSTM language model (MOSES CharRNN class).

    Args:
        representation: ``smiles`` | ``selfies`` (see :data:`~biomodels.generate.tokens.REPRESENTATIONS`).
        embedding, hidden, layers, dropout: the network (MOSES: 768 x 3 layers, dropout 0.2; this
            smaller default underfits before it overfits, so without dropout).
        epochs, batch_size, lr: training (Adam, gradients clipped at norm 5). The defaults are
            chosen for a small data set: on 20,000 MOSES rows, one epoch, 10,000 samples of
            seed 0 are 52.3% valid (batch 64 at 2e-3 with dropout 0.2: 24.3%; the cosine decay
            to 5e-4: 46.3%); the shipped prior's options are in its model card.
        lr_end: the learning rate at the end of training, reached by cosine decay from ``lr``
            (None: ``lr`` throughout).
        max_length: the longest molecule in tokens (longer training rows are counted invalid;
            sampling stops there).
        seed: weights, shuffling, dropout. device: ``cpu`` | ``cuda`` | ``auto``.
        progress: show a progress bar over each epoch's molecules.
    """

    def __init__(
        self,
        representation: str = "smiles",
        embedding: int = 32,
        hidden: int = 256,
        layers: int = 2,
        dropout: float = 0.0,
        epochs: int = 10,
        batch_size: int = 32,
        lr: float = 5e-3,
        lr_end: float | None = None,
        max_length: int = 100,
        seed: int = 0,
        device: str = "cpu",
        progress: bool = False,
    ):
        self.representation, self.embedding, self.hidden, self.layers = (
            representation,
            embedding,
            hidden,
            layers,
        )
        self.dropout, self.epochs, self.batch_size, self.lr = dropout, epochs, batch_size, lr
        self.lr_end = lr_end
        self.max_length, self.seed, self.device, self.progress = max_length, seed, device, progress

    def _new_network(self) -> nn.Module:
        return CharRNN(len(self.vocabulary_), self.embedding, self.hidden, self.layers, self.dropout)


class VAEModel(GenerativeModel):
    """``vae``: a GRU sequence VAE with KL annealing (MOSES VAE class).

    Args:
        encoder_hidden: the bidirectional GRU encoder's width. latent: the latent size ``Z``.
        hidden, layers: the GRU decoder (MOSES: 512 x 3 layers).
        kl_weight: the KL term's final weight (MOSES: 0.05); it rises linearly from 0 over the
            first ``kl_anneal`` fraction of training steps.
        the others: as :class:`CharRNNModel`.
    """

    _positive = (*GenerativeModel._positive, "latent", "encoder_hidden")

    def __init__(
        self,
        representation: str = "smiles",
        embedding: int = 32,
        encoder_hidden: int = 128,
        hidden: int = 256,
        layers: int = 2,
        latent: int = 64,
        dropout: float = 0.0,
        kl_weight: float = 0.05,
        kl_anneal: float = 0.5,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 2e-3,
        lr_end: float | None = None,
        max_length: int = 100,
        seed: int = 0,
        device: str = "cpu",
        progress: bool = False,
    ):
        self.representation, self.embedding, self.encoder_hidden = representation, embedding, encoder_hidden
        self.hidden, self.layers, self.latent, self.dropout = hidden, layers, latent, dropout
        self.kl_weight, self.kl_anneal, self.epochs, self.batch_size = (
            kl_weight,
            kl_anneal,
            epochs,
            batch_size,
        )
        self.lr, self.lr_end, self.max_length, self.seed, self.device, self.progress = (
            lr,
            lr_end,
            max_length,
            seed,
            device,
            progress,
        )

    def _new_network(self) -> nn.Module:
        return SequenceVAE(
            len(self.vocabulary_), self.embedding, self.encoder_hidden, self.hidden, self.layers,
            self.latent, self.dropout,
        )  # fmt: skip

    def _batch_loss(self, ids: torch.Tensor, done: float) -> tuple[torch.Tensor, dict[str, float]]:
        weight = self.kl_weight * min(1.0, done / self.kl_anneal) if self.kl_anneal > 0 else self.kl_weight
        return self.network_.loss(ids, kl_weight=weight)

    def _start(self, batch: int, generator: torch.Generator) -> Any:
        return self.network_.start(batch, generator=generator)

    def encode(self, smiles: Sequence[str]) -> torch.Tensor:
        """Latent means (``B x Z``) of molecules.

        Raises:
            InputError: a molecule that cannot be tokenised with this model's vocabulary.
        """
        self._check_fitted()
        encoded = []
        for i, text in enumerate(smiles):
            try:
                encoded.append(self.vocabulary_.encode(self.representation_.tokenize(text)))
            except TokenError as exc:
                raise InputError(None, str(exc), record=i) from None
        with torch.no_grad():
            mu, _ = self.network_.eval().encode(pad_batch(encoded).to(self._device()))
        return mu

    def interpolate(self, start: str, end: str, steps: int = 10) -> pd.DataFrame:
        """Molecules decoded greedily at ``steps`` evenly spaced points from ``start``'s latent
        mean to ``end``'s (both ends included): ``t`` and :data:`SAMPLE_COLUMNS`."""
        mu = self.encode([start, end])
        t = torch.linspace(0, 1, steps, device=mu.device)[:, None]
        z = (1 - t) * mu[0] + t * mu[1]
        state = self.network_.start(steps, z=z)
        table = self._decode(self._generate(state, steps, 0.0, None))
        table.insert(0, "t", t[:, 0].cpu().numpy())
        return table


class RowProgress:
    """A rich progress bar over an epoch's molecules; does nothing when disabled."""

    def __init__(self, label: str, total: int, enabled: bool):
        self._bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
            )  # fmt: skip
            self._task = self._bar.add_task(label, total=total, status="")

    def __enter__(self) -> RowProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int, status: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=n, status=status)
