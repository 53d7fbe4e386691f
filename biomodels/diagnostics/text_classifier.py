"""Text classifier estimators: bidirectional RNN (``rnn``) and Transformer (``transformer``).

Both tokenise with :func:`~biomodels.diagnostics.tokenize.tokenize`, build the
:class:`~biomodels.diagnostics.tokenize.Vocabulary` from the training texts (stored in the
saved model's JSON state), pool token states with attention and can report the most attended
tokens of each text (``predict(data, top_tokens=K)``). They fit on a labelled
:class:`~biomodels.io.text.TextSet` and predict texts in any form (a list, a DataFrame, a file).

Every text model's prediction table has an ``oov_fraction`` column (:class:`TextInputMixin`):
the share of a row's tokens the model never saw in training, whose prediction then rests on
little (at 1.0, on nothing but the class priors); a warning names the rows where it is most.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from biomodels.diagnostics.attention import PooledTextClassifier
from biomodels.diagnostics.base import (
    ClassifierMixin,
    NeuralEstimator,
    Prepared,
    check_path_kind,
    classification_loss,
    classification_val_metrics,
    label_indices,
)
from biomodels.diagnostics.batches import tensor_batches
from biomodels.diagnostics.data import text_training_data
from biomodels.diagnostics.rnn import RNNTextClassifier
from biomodels.diagnostics.tokenize import Vocabulary, tokenize
from biomodels.diagnostics.transformer import TransformerTextClassifier
from biomodels.io.text import TextSet, read_text_table, text_set_from_frame, texts_from_list
from biomodels.train.estimator import TrainingData

if TYPE_CHECKING:
    from biomodels.train.run import TrainRunConfig

logger = logging.getLogger(__name__)

__all__ = ["OOV_WARNING", "RNNClassifier", "TextInputMixin", "TransformerClassifier", "prepare_texts"]

OOV_WARNING = 0.5
"""``predict`` warns about rows whose out-of-vocabulary share of tokens exceeds this."""


def prepare_texts(X: Any, require_tokens: bool = False) -> Prepared:
    """Check text rows (missing, not a string, blank; with ``require_tokens``, no word tokens).

    ``X`` is a :class:`~biomodels.io.text.TextSet`, a DataFrame (columns detected), a CSV/TSV
    path or a sequence of texts. ``data`` is the list of usable texts; the labels of a set
    or table that has a label column are kept.
    """
    if isinstance(X, (str, Path)):
        X = read_text_table(X)
    elif isinstance(X, pd.DataFrame):
        X = text_set_from_frame(X)
    elif not isinstance(X, TextSet):
        X = texts_from_list(list(X))
    texts, errors = list(X.texts), list(X.errors)
    if require_tokens:
        errors = [
            e if e is not None or tokenize(t) else "text has no word tokens"
            for t, e in zip(texts, errors, strict=True)
        ]
    usable = [t for t, e in zip(texts, errors, strict=True) if e is None]
    return Prepared(list(X.ids), errors, usable, X.label_names())


class TextInputMixin:
    """Reading and row checking of text estimators, their training data and labelled sets."""

    input_kind = "text"
    require_tokens: ClassVar[bool] = False
    """Whether a text without word tokens is unusable (the neural models embed tokens)."""

    @classmethod
    def training_data(cls, config: TrainRunConfig) -> TrainingData:
        """A labelled text table, split (see :mod:`biomodels.diagnostics.data`)."""
        return text_training_data(config)

    def _known_tokens(self, text: str) -> list[bool]:
        """Per token of ``text`` the model reads, whether it is in the model's vocabulary."""
        raise NotImplementedError

    def oov_fractions(self, texts: Sequence[str]) -> np.ndarray:
        """Per text, the share of its tokens that are out of the vocabulary (1.0 without tokens)."""
        known = [self._known_tokens(text) for text in texts]
        return np.array([1.0 - float(np.mean(k)) if k else 1.0 for k in known], dtype=np.float64)

    def _extra_columns(self, prepared: Prepared, **options: Any) -> dict[str, Any]:
        """``oov_fraction`` of the usable rows; a warning names the rows where most tokens are unknown."""
        fractions = self.oov_fractions(prepared.data)
        mostly = np.flatnonzero(fractions > OOV_WARNING)
        if len(mostly):
            ids = np.asarray(prepared.ids, dtype=object)[prepared.valid][mostly]
            shown = ", ".join(map(str, ids[:10])) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            logger.warning(
                "%d of %d texts have mostly out-of-vocabulary tokens (rows %s): their predictions "
                "rest on few known words (see the oov_fraction column)",
                len(mostly),
                len(fractions),
                shown,
            )
        return {"oov_fraction": fractions}

    def _prepare(self, X: Any) -> Prepared:
        if isinstance(X, (str, Path)):
            check_path_kind(X, "text", type(self).__name__)
        return prepare_texts(X, require_tokens=self.require_tokens)

    def _labelled_texts(
        self, data: Any, classes: Sequence[str] | None, what: str
    ) -> tuple[list[str], np.ndarray, list[str]]:
        """Texts, class indices and classes (the sorted distinct labels when ``classes`` is
        None) of a clean labelled ``TextSet``.

        Raises:
            ValueError: not a labelled ``TextSet``, unusable rows, or labels outside ``classes``.
        """
        if not isinstance(data, TextSet) or data.labels is None:
            raise ValueError(f"{what} data must be a labelled TextSet, not {type(data).__name__}")
        prepared = prepare_texts(data, require_tokens=self.require_tokens)
        prepared.require_usable(what)
        if classes is None:
            classes = sorted({str(label) for label in prepared.labels if label is not None})
        y = label_indices(prepared.labels, classes)
        bad = np.flatnonzero(y < 0)
        if len(bad):
            raise ValueError(
                f"{what} rows {bad[:5].tolist()} have labels outside the classes {list(classes)[:10]}"
            )
        return prepared.data, y, list(classes)


class _NeuralTextClassifier(TextInputMixin, ClassifierMixin, NeuralEstimator):
    """Training, prediction and attention read-out shared by the RNN and Transformer estimators."""

    require_tokens = True
    prediction_options = ("top_tokens",)
    max_len: int
    min_freq: int
    token_dropout: float

    def _net(self, vocab_size: int, n_classes: int) -> PooledTextClassifier:
        raise NotImplementedError

    def _build_module(self) -> nn.Module:
        return self._net(len(self.vocabulary_), len(self.classes_))

    def fit(self, data: TextSet, val: TextSet | None = None) -> _NeuralTextClassifier:
        """Build the vocabulary from the training texts and train on their labels.

        Classes are the sorted distinct training labels. Validation texts (optional) choose the
        best epoch; their labels must be training classes.

        Raises:
            ValueError: a text without word tokens or a missing label (clean the rows first;
                the ``error`` column of :meth:`predict` says which), or unknown validation labels.
        """
        texts, labels, classes = self._labelled_texts(data, None, "training")
        self.classes_ = classes
        self.vocabulary_ = Vocabulary.build(texts, min_freq=self.min_freq)
        module = self._new_module()
        train = tensor_batches(self._tensors(texts, labels), self.batch_size, shuffle=True)
        val_batches = None
        if val is not None and len(val):
            val_texts, val_labels, _ = self._labelled_texts(val, classes, "validation")
            val_batches = tensor_batches(self._tensors(val_texts, val_labels), 256)
        forward = functools.partial(_forward, token_dropout=self.token_dropout)
        self.history_ = self._trainer().fit(
            module,
            train,
            val_batches,
            classification_loss,
            classification_val_metrics if val_batches else None,
            forward=forward,
        )
        self.module_ = module.eval()
        self.fitted_ = True
        logger.info(
            "text model: %d classes, vocabulary of %d tokens", len(self.classes_), len(self.vocabulary_)
        )
        return self

    def attention(self, X: TextSet | Sequence[object]) -> list[list[tuple[str, float]] | None]:
        """Per row, each token with its attention-pooling weight (None for unusable rows).

        Tokens are the text's own words (also those the vocabulary maps to unknown), truncated to
        ``max_len``; the weights of a row sum to 1.
        """
        self._check_fitted()
        prepared = self._prepare(X)
        pairs = iter(self._token_weights(prepared.data))
        return [next(pairs) if ok else None for ok in prepared.valid]

    def _proba(self, data: list[str]) -> np.ndarray:
        return self._run(data)[0]

    def _known_tokens(self, text: str) -> list[bool]:
        return [token in self.vocabulary_.index for token in tokenize(text)[: self.max_len]]

    def _extra_columns(self, prepared: Prepared, top_tokens: int = 0) -> dict[str, Any]:
        columns = super()._extra_columns(prepared)
        if not top_tokens:
            return columns
        cells = []
        for pairs in self._token_weights(prepared.data):
            ranked = sorted(pairs, key=lambda p: -p[1])[:top_tokens]
            cells.append("; ".join(f"{token}:{weight:.3f}" for token, weight in ranked))
        return {**columns, "top_tokens": cells}

    def _token_weights(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        weights = self._run(texts)[1]
        out = []
        for text, row in zip(texts, weights, strict=True):
            tokens = tokenize(text)[: self.max_len]
            out.append([(token, float(w)) for token, w in zip(tokens, row, strict=False)])
        return out

    def _run(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Probabilities ``n x C`` and per-text attention weights (one array of its length)."""
        ids, mask = self.vocabulary_.encode(texts, self.max_len)
        outputs = self._predict_batches(tensor_batches({"ids": ids, "mask": mask}, 256), _predict)
        probs = torch.cat([p for p, _ in outputs]).double().numpy()
        lengths = mask.sum(1).tolist()
        rows = [row for _, w in outputs for row in w.numpy()]
        return probs, [row[:n] for row, n in zip(rows, lengths, strict=True)]

    def _tensors(self, texts: Sequence[str], labels: np.ndarray) -> dict[str, torch.Tensor]:
        ids, mask = self.vocabulary_.encode(list(texts), self.max_len)
        return {"ids": ids, "mask": mask, "y": torch.as_tensor(labels, dtype=torch.long)}

    def _get_state(self) -> dict[str, Any]:
        return {"classes": self.classes_, "vocabulary": self.vocabulary_.tokens}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.classes_ = list(state["classes"])
        self.vocabulary_ = Vocabulary(state["vocabulary"])


def _trim(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the padding columns every text of the batch has (batches are padded to the set's longest)."""
    width = max(int(batch["mask"].sum(1).max()), 1)
    return batch["ids"][:, :width], batch["mask"][:, :width]


def _forward(
    model: PooledTextClassifier, batch: dict[str, torch.Tensor], token_dropout: float
) -> torch.Tensor:
    """Training/validation forward; in training, each real token becomes unknown with ``token_dropout``.

    Word dropout (Iyyer et al. 2015) keeps a model trained on a few hundred texts from leaning on
    single keywords: it must use every clue in the text.
    """
    ids, mask = _trim(batch)
    if model.training and token_dropout > 0:
        drop = (torch.rand(ids.shape, device=ids.device) < token_dropout) & mask
        ids = ids.masked_fill(drop, Vocabulary.unk_index)
    return model(ids, mask)


def _predict(
    model: PooledTextClassifier, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    logits, weights = model.forward_with_attention(*_trim(batch))
    return torch.softmax(logits, 1), weights


class RNNClassifier(_NeuralTextClassifier):
    """Bidirectional GRU/LSTM text classifier with attention pooling.

    Args:
        cell: ``"gru"`` or ``"lstm"``.
        embed_dim, hidden, layers, dropout, pool_heads: see
            :class:`~biomodels.diagnostics.rnn.RNNTextClassifier`.
        token_dropout: probability that a training token is replaced by the unknown token.
        max_len: tokens kept per text.
        min_freq: training-set count below which a word maps to unknown.
        epochs, batch_size, lr, seed: training settings.
        device: ``auto``, ``cpu`` or ``cuda``. progress: a progress bar over epochs.
        trainer_options: further :class:`~biomodels.train.TrainerConfig` fields.
    """

    def __init__(
        self,
        cell: str = "gru",
        embed_dim: int = 100,
        hidden: int = 64,
        layers: int = 1,
        dropout: float = 0.5,
        pool_heads: int = 4,
        token_dropout: float = 0.5,
        max_len: int = 64,
        min_freq: int = 1,
        epochs: int = 40,
        batch_size: int = 32,
        lr: float = 1e-2,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.cell = cell
        self.embed_dim = embed_dim
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.pool_heads = pool_heads
        self.token_dropout = token_dropout
        self.max_len = max_len
        self.min_freq = min_freq
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.progress = progress
        self.trainer_options = trainer_options

    def _net(self, vocab_size: int, n_classes: int) -> PooledTextClassifier:
        return RNNTextClassifier(
            vocab_size,
            n_classes,
            self.embed_dim,
            self.hidden,
            self.cell,
            self.layers,
            self.dropout,
            self.pool_heads,
        )


class TransformerClassifier(_NeuralTextClassifier):
    """Transformer-encoder text classifier with attention pooling; attention maps retrievable.

    Args:
        d_model, heads, layers, ff_dim, dropout, pool_heads: see
            :class:`~biomodels.diagnostics.transformer.TransformerTextClassifier`.
        token_dropout, max_len, min_freq, epochs, batch_size, lr, seed, device, progress,
            trainer_options: as :class:`RNNClassifier`.
    """

    def __init__(
        self,
        d_model: int = 64,
        heads: int = 4,
        layers: int = 2,
        ff_dim: int = 128,
        dropout: float = 0.3,
        pool_heads: int = 4,
        token_dropout: float = 0.5,
        max_len: int = 64,
        min_freq: int = 1,
        epochs: int = 40,
        batch_size: int = 32,
        lr: float = 5e-3,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.d_model = d_model
        self.heads = heads
        self.layers = layers
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.pool_heads = pool_heads
        self.token_dropout = token_dropout
        self.max_len = max_len
        self.min_freq = min_freq
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.progress = progress
        self.trainer_options = trainer_options

    def _net(self, vocab_size: int, n_classes: int) -> PooledTextClassifier:
        return TransformerTextClassifier(
            vocab_size,
            n_classes,
            self.d_model,
            self.heads,
            self.layers,
            self.ff_dim,
            self.dropout,
            self.max_len,
            self.pool_heads,
        )

    def attention_maps(self, texts: Sequence[str]) -> list[list[np.ndarray]]:
        """Self-attention maps per text: one ``heads x n_tokens x n_tokens`` array per layer."""
        self._check_fitted()
        ids, mask = self.vocabulary_.encode(list(texts), self.max_len)
        maps = self.module_.cpu().attention_maps(ids, mask)
        lengths = mask.sum(1).tolist()
        return [[m[i, :, :n, :n].numpy() for m in maps] for i, n in enumerate(lengths)]
