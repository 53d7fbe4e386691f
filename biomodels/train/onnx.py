"""ONNX export of a trained estimator's networks, and ONNX Runtime in their place.

:func:`export_onnx` writes one ``.onnx`` file per model: every network (ensemble member) of the
estimator, traced by ``torch.onnx.export`` from its :class:`~biomodels.nn.export.Exportable`
protocol, side by side in one graph with one output per member and output
(``member<i>.<name>``). Featurisation, scaling and ensembling stay in Python, in the
estimator, so predictions through ONNX Runtime go through the same code as torch's and carry
the same columns. ``quantize="int8"`` writes ONNX Runtime's dynamically quantised variant
(int8 weights of the matrix products, activations quantised on the fly).

The file's metadata (``biomodels.*`` properties) names the registry key, the number of members,
the exported method and outputs, and the sha256 of the ``model.json`` it was exported from:
:func:`onnx_modules` refuses a file exported from another model.

:class:`OnnxNetwork` stands in for one network: the method the estimator calls runs the
ONNX Runtime session (only that member's outputs are requested, so only its part of the
graph runs), every other attribute is the torch network's (``postprocess``, ``config``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from biomodels import __version__
from biomodels.exceptions import CheckpointError, InputError
from biomodels.nn.export import Exportable, as_outputs
from biomodels.train.checkpoint import MODEL_FILE
from biomodels.utils import atomic_path

if TYPE_CHECKING:
    from biomodels.train.estimator import Estimator

logger = logging.getLogger(__name__)

__all__ = ["QUANTIZATIONS", "OnnxNetwork", "export_onnx", "model_digest", "onnx_modules"]

QUANTIZATIONS = ("int8",)
_META = "biomodels."


def model_digest(model_dir: str | Path) -> str:
    """sha256 of a model folder's ``model.json`` (which itself lists the weights' sha256s)."""
    return hashlib.sha256((Path(model_dir) / MODEL_FILE).read_bytes()).hexdigest()


def _networks(estimator: Estimator) -> list[Exportable]:
    networks = estimator._modules()
    if not networks:
        raise InputError(None, f"a {estimator.name} model has no network to export to ONNX")
    for net in networks:
        if not isinstance(net, Exportable):
            raise InputError(
                None,
                f"a {estimator.name} model's network ({type(net).__name__}) cannot be exported to ONNX "
                "(exportable: the property GNNs dmpnn, gin, gcn, gat and the cnn, resnet18, rnn and "
                "transformer diagnostic models)",
            )
    return networks


class _Members(nn.Module):
    """Every member's exported method side by side: the traced module."""

    def __init__(self, networks: Sequence[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(networks)

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(out for net in self.members for out in as_outputs(net.export_call(*tensors)))


def _dims(dynamic: dict[str, dict[int, str]]) -> dict[str, dict[int, Any]]:
    """``torch.export.Dim`` objects for the dimension names (``"name+1"``: one more than ``name``)."""
    made: dict[str, Any] = {}

    def dim(label: str) -> Any:
        base, _, plus = label.partition("+")
        if base not in made:
            made[base] = torch.export.Dim(base.replace("-", "_"))
        return made[base] + int(plus) if plus else made[base]

    return {name: {axis: dim(label) for axis, label in axes.items()} for name, axes in dynamic.items()}


def export_onnx(
    estimator: Estimator,
    out: str | Path,
    model_dir: str | Path | None = None,
    quantize: str | None = None,
    opset: int = 18,
) -> Path:
    """Export ``estimator``'s networks to the ONNX file ``out`` (written atomically).

    Args:
        estimator: a fitted estimator whose networks are :class:`~biomodels.nn.export.Exportable`.
        model_dir: the model folder it was loaded from; its ``model.json`` digest is recorded so
            that ONNX Runtime runs the file only with that model.
        quantize: None (float32) or ``"int8"`` (dynamic quantisation of the weights).
        opset: the ONNX opset (18: ``ScatterElements`` with a max reduction).

    Raises:
        InputError: the model has no exportable network, or ``quantize`` is unknown.
    """
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise InputError(out, f"unknown quantisation {quantize!r}; choose one of: {', '.join(QUANTIZATIONS)}")
    import onnx

    networks = _networks(estimator)
    first = networks[0]
    example = first.export_example()
    named = first.export_inputs(*example)
    dynamic = {k: v for k, v in first.export_dynamic().items() if k in named}
    outputs = [f"member{i}.{name}" for i in range(len(networks)) for name in first.export_outputs]
    module = _Members(networks).eval()
    with torch.no_grad(), _quiet_exporter():
        program = torch.onnx.export(
            module,
            tuple(named.values()),
            input_names=list(named),
            output_names=outputs,
            dynamic_shapes=(tuple(_dims(dynamic).get(name, {}) for name in named),),  # *tensors
            opset_version=opset,
            dynamo=True,
            verbose=False,
        )
    proto = program.model_proto
    meta = {
        "model": estimator.name,
        "members": str(len(networks)),
        "method": first.export_method,
        "outputs": ",".join(first.export_outputs),
        "model_json_sha256": model_digest(model_dir) if model_dir is not None else "",
        "version": __version__,
        "quantization": quantize or "none",
    }
    out = Path(out)
    with atomic_path(out) as tmp, _quiet_exporter():
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            with tempfile.TemporaryDirectory() as scratch:
                fp32 = Path(scratch) / "fp32.onnx"
                onnx.save(proto, fp32)
                quantize_dynamic(fp32, Path(scratch) / "int8.onnx", weight_type=QuantType.QInt8)
                proto = onnx.load(Path(scratch) / "int8.onnx")
        del proto.metadata_props[:]
        for key, value in meta.items():
            proto.metadata_props.add(key=_META + key, value=value)
        onnx.save(proto, tmp)
    logger.info(
        "exported %d %s network(s) to %s (%s)", len(networks), estimator.name, out, quantize or "fp32"
    )
    return out


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's and the quantiser's progress prints, warnings and log lines."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx")]
    levels = [lg.level for lg in loggers]
    handlers = list(loggers[0].handlers)  # the quantiser calls logging.basicConfig: undo it
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)
            loggers[0].handlers[:] = handlers


class OnnxNetwork(nn.Module):
    """One network run by ONNX Runtime: ``forward`` (and the exported method, by its name)
    run the session; other attributes come from the torch network it replaces."""

    def __init__(self, network: nn.Module, session: Any, outputs: list[str]):
        super().__init__()
        self.network = network
        self.session = session
        self.output_names = outputs
        self.method = network.export_method

    def forward(self, *args: Any) -> torch.Tensor | tuple[torch.Tensor, ...]:
        feeds = {name: t.detach().cpu().numpy() for name, t in self.network.export_inputs(*args).items()}
        values = [torch.from_numpy(np.asarray(v)) for v in self.session.run(self.output_names, feeds)]
        return values[0] if len(values) == 1 else tuple(values)

    def __getattr__(self, name: str) -> Any:
        if name in ("network", "session", "output_names", "method") or name.startswith("_"):
            return super().__getattr__(name)
        if name == self.method:
            return self.forward
        return getattr(self.network, name)


def onnx_modules(
    estimator: Estimator, path: str | Path, model_dir: str | Path | None = None, threads: int = 1
) -> list[OnnxNetwork]:
    """ONNX Runtime stand-ins for ``estimator``'s networks, from the file ``path``.

    Args:
        model_dir: the estimator's model folder; when given, the file must have been exported
            from it (same ``model.json`` digest).
        threads: ONNX Runtime's intra-op threads. Keep 1 for graph models: ONNX Runtime's
            CPU ``ScatterND`` with ``reduction="add"`` splits the indices between threads, and
            the message sums (many edges into one atom) then race: on HIV under a loaded
            machine 9 of 3,000 molecules came out up to 0.4 log units off with 2 threads.
            Run parallel work as parallel callers instead (``--workers``, the server's
            batching).

    Raises:
        CheckpointError: the file is not an ONNX model of biomodels, or was exported from
            another model (other weights, other family, other member count).
    """
    import onnxruntime as ort

    path = Path(path)
    networks = _networks(estimator)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise CheckpointError(
            path, f"not a readable ONNX model ({' '.join(str(exc).split())[:200]})"
        ) from None
    meta = {
        k[len(_META) :]: v
        for k, v in session.get_modelmeta().custom_metadata_map.items()
        if k.startswith(_META)
    }
    if meta.get("model") != estimator.name or meta.get("members") != str(len(networks)):
        raise CheckpointError(
            path,
            f"holds {meta.get('members', '?')} {meta.get('model', 'unknown')} network(s), not the "
            f"{len(networks)} of this {estimator.name} model; export it again with `biomodels export`",
        )
    digest = meta.get("model_json_sha256")
    if model_dir is not None and digest and digest != model_digest(model_dir):
        raise CheckpointError(
            path, f"was exported from another model than {model_dir}; export it again with `biomodels export`"
        )
    names = meta["outputs"].split(",")
    return [
        OnnxNetwork(net, session, [f"member{i}.{name}" for name in names]) for i, net in enumerate(networks)
    ]
