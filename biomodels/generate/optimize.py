"""``biomodels generate optimize``: REINVENT-style goal-directed optimisation of a SMILES prior.

A fixed prior (a ``charrnn`` run directory; the shipped prior by default) and an agent
initialised from it. Each step the agent samples ``batch_size`` SMILES; every molecule not seen
before is scored once by the :class:`~biomodels.generate.scoring.Objective` (one *call* of the
``budget``; a repeat reuses its cached score and costs nothing), the
:class:`~biomodels.generate.diversity.DiversityFilter` turns scores into rewards, and the agent
takes one Adam step on REINVENT's augmented-likelihood loss (Olivecrona et al. 2017)::

    loss = mean over the batch of (log P_prior(x) + sigma * reward(x) - log P_agent(x)) ** 2

so the agent moves toward high-reward molecules while staying close to the prior's chemistry.
The sum also runs over ``replay`` molecules drawn from a memory of the best ones so far
(:class:`~biomodels.generate.replay.ReplayMemory`, REINVENT's inception).

Run directory (the layout of every run, :mod:`biomodels.train.run`; ``load_run`` reads the
optimised agent and ``biomodels generate sample RUN`` samples it)::

    RUN/
      config.json, environment.json, run.log
      molecules.csv      one row per scored molecule and per invalid sample: step, smiles
                         (canonical; empty when invalid), raw, scaffold, score, reward, every
                         component's raw value and desirability, error
      steps.csv          per step: sampled, valid and unique fractions, new molecules, calls so
                         far, loss, the batch's mean score, best and top-10 mean so far
      checkpoint/        the agent + optimizer.safetensors + rng.safetensors + state.json,
                         rewritten (atomically) every ``checkpoint_every`` steps
      focused/model/     the prior fine-tuned on the activity model's training molecules
                         (``focus_epochs``): the fixed prior and the agent's start
      model/             the final agent
      metrics.json       calls, steps, best score, top-10 / top-100 means, top-10 AUC, seconds
      plots/             best-so-far and unique-fraction curves (biomodels.report)

``resume=True`` continues a killed run from its checkpoint: the same agent, optimiser, random
state and counters, molecules logged after the checkpoint dropped, so the budget continues
without a molecule scored twice.
"""

from __future__ import annotations

import copy
import inspect
import logging
import math
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from biomodels.exceptions import CheckpointError, InputError
from biomodels.generate.corpus import pad_batch
from biomodels.generate.diversity import DiversityFilter, murcko_scaffold
from biomodels.generate.models import CharRNNModel, RowProgress
from biomodels.generate.replay import ReplayMemory
from biomodels.generate.sampling import load_generator
from biomodels.generate.scoring import (
    Objective,
    build_objective,
    default_objective,
    load_activity_run,
    load_objective,
)
from biomodels.generate.training import read_checkpoint, read_tensors, write_checkpoint
from biomodels.train.optim import Adam
from biomodels.train.rundir import RunDirectory
from biomodels.train.trainer import resolve_device
from biomodels.utils import read_json

logger = logging.getLogger(__name__)

__all__ = ["OptimizeResult", "optimize", "top_k_auc", "top_k_mean"]

CHECKPOINT = "checkpoint"
RNG_FILE = "rng.safetensors"
STATE_FILE = "state.json"
MOLECULE_COLUMNS = ("step", "smiles", "raw", "scaffold", "score", "reward")
"""The first columns of ``molecules.csv``; every objective column and ``error`` follow."""
STEP_COLUMNS = (
    "step", "sampled", "valid_fraction", "unique_fraction", "new", "calls", "loss", "mean_score",
    "best_score", "top10_mean",
)  # fmt: skip


@dataclass
class OptimizeResult:
    """What :func:`optimize` produced: the run directory, its metrics, the scored molecules."""

    run_dir: Path
    metrics: dict[str, Any]
    molecules: pd.DataFrame
    steps: pd.DataFrame
    seconds: float


def top_k_mean(scores: np.ndarray, k: int) -> float:
    """Mean of the ``k`` largest scores (of all of them when fewer; NaN when none)."""
    scores = np.asarray(scores, float)
    return float(np.sort(scores)[::-1][:k].mean()) if len(scores) else math.nan


def top_k_auc(scores: np.ndarray, k: int = 10, budget: int | None = None, every: int = 100) -> float:
    """PMO's area under the top-``k`` curve (Gao et al. 2022, ``main/optimizer.py: top_auc``).

    The mean of the best ``k`` scores so far is read every ``every`` calls; the trapezoids
    under that curve, plus its last value held to ``budget`` when the run ended early, divided
    by ``budget``. In [0, 1] for scores in [0, 1]; rewards finding good molecules early.

    Args:
        scores: the scores in the order they were called.
        budget: the call budget (default: ``len(scores)``).
    """
    scores = np.asarray(scores, float)
    budget = budget or len(scores)
    if not len(scores) or not budget:
        return math.nan
    total, previous, called = 0.0, 0.0, 0
    for end in range(every, min(len(scores), budget), every):
        now = top_k_mean(scores[:end], k)
        total += every * (now + previous) / 2
        previous, called = now, end
    now = top_k_mean(scores[:budget], k)
    total += (min(len(scores), budget) - called) * (now + previous) / 2
    total += max(0, budget - len(scores)) * now
    return total / budget


def optimize(
    prior: str | Path | None = None,
    activity: str | Path | None = None,
    budget: int = 5_000,
    out: str | Path | None = None,
    seed: int = 0,
    objective: str | Path | Objective | None = None,
    resume: bool = False,
    batch_size: int = 64,
    sigma: float = 120.0,
    lr: float = 2e-3,
    focus_epochs: int = 10,
    focus_lr: float = 1e-3,
    replay: int = 10,
    replay_memory: int = 100,
    checkpoint_every: int = 5,
    collapse_below: float = 0.25,
    max_steps: int | None = None,
    force: bool = False,
    progress: bool = False,
) -> OptimizeResult:
    """Optimise the prior toward ``objective`` with ``budget`` scoring calls into the run ``out``.

    Args:
        prior: a ``charrnn`` run directory of ``biomodels generate train`` (None: the shipped prior).
        activity: a run directory of ``biomodels train``: the ``activity`` and ``domain``
            components' model; with no ``objective``, the default objective is built on it
            (:func:`~biomodels.generate.scoring.default_objective`).
        budget: scoring calls (distinct molecules scored); with ``resume``, a larger one goes on.
        objective: a TOML file (:func:`~biomodels.generate.scoring.load_objective`) or an Objective.
        resume: continue the run in ``out`` from its checkpoint (its settings are read from it).
        batch_size, sigma, lr: molecules sampled per step, the reward's scale in the augmented
            likelihood (REINVENT: 120) and the agent's Adam learning rate (REINVENT: 1e-4).
        focus_epochs, focus_lr: transfer learning before the optimisation (REINVENT 4's staged
            learning): the prior is first trained further on the activity model's training
            molecules for ``focus_epochs`` (0: not), and this focused model is both the fixed
            prior and the agent's start, so the agent starts inside the model's domain instead
            of having to find it. Needs ``activity``; saved in ``RUN/focused/model``.
        replay, replay_memory: molecules replayed into each step's loss from a memory of the
            ``replay_memory`` best-rewarded ones so far (0: no replay).
        checkpoint_every: steps between checkpoints (and rewrites of the CSV files).
        collapse_below: log a warning when the distinct share of a batch falls below this.
        max_steps: stop after this many steps even if the budget is not spent (default: 20 x
            the steps the budget needs were every molecule new).
        force: replace an existing non-empty ``out`` (without ``resume``).
        progress: show a progress bar over the budget.

    Raises:
        InputError: bad settings, no objective, a bad objective file, ``out`` not empty.
        CheckpointError: a missing or corrupt prior or activity run, a prior that is not a
            ``charrnn``, ``resume`` without a readable checkpoint.
    """
    started = time.perf_counter()
    if out is None:
        raise InputError(None, "optimize needs an output run directory (--out)")
    out = Path(out)
    if budget < 1 or batch_size < 1 or sigma < 0 or lr <= 0 or checkpoint_every < 1 or focus_epochs < 0:
        raise InputError(
            None,
            "optimize needs budget >= 1, batch_size >= 1, sigma >= 0, lr > 0, checkpoint_every >= 1, "
            f"focus_epochs >= 0; got {budget}, {batch_size}, {sigma}, {lr}, {checkpoint_every}, "
            f"{focus_epochs}",
        )
    replay_spec = {"sample": replay, "memory": replay_memory}
    if resume:
        config = _read_config(out)
        spec, activity = config["objective"], config["activity"]
        prior, seed, batch_size = config["prior"], config["seed"], config["batch_size"]
        sigma, lr = config["sigma"], config["lr"]
        focus_epochs, focus_lr = config["focus"]["epochs"], config["focus"]["lr"]
        replay_spec = config.get("replay", {"sample": 0, "memory": 0})  # runs from before replay
        built = build_objective(spec, activity, source=out / "config.json")
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
            reason = "already exists and is not empty; choose another --out, pass --force or --resume"
            raise InputError(out, reason)
        built = _objective(objective, activity)
    diversity = DiversityFilter.from_spec(built.spec.get("diversity_filter"))
    memory = ReplayMemory(size=replay_spec["memory"], sample=replay_spec["sample"])
    max_steps = max_steps or 20 * math.ceil(budget / batch_size)
    run = RunDirectory(out)
    with run.log_to():
        environment = run.record_environment()
        focus = {"epochs": focus_epochs if activity is not None else 0, "lr": focus_lr}
        config = {
            "prior": None if prior is None else str(prior),
            "activity": None if activity is None else str(activity),
            "budget": budget, "seed": seed, "batch_size": batch_size, "sigma": sigma, "lr": lr,
            "focus": focus, "replay": replay_spec, "objective": built.spec,
        }  # fmt: skip
        reference = _reference(prior, activity, focus, run, resume, environment["packages"])
        loop = _Loop(reference, built, diversity, memory, config, run, environment["packages"])
        if resume:
            loop.restore()
        run.write_json("config.json", config)
        loop.run(budget, max_steps, checkpoint_every, collapse_below, progress)
        metrics = loop.metrics(budget, time.perf_counter() - started)
        loop.agent.save(run.file("model"), versions=environment["packages"])
        run.write_json("metrics.json", metrics)
        logger.info("optimised in %.1f s: %s", metrics["seconds"], metrics)
    return OptimizeResult(out, metrics, loop.molecules(), loop.steps(), metrics["seconds"])


def _objective(objective: str | Path | Objective | None, activity: str | Path | None) -> Objective:
    if isinstance(objective, Objective):
        return objective
    if objective is not None:
        return load_objective(objective, activity)
    if activity is None:
        raise InputError(None, "optimize needs --activity RUN_DIR (default objective) or --objective FILE")
    return default_objective(activity)


def _load_prior(prior: str | Path | None) -> CharRNNModel:
    model = load_generator(prior)
    if not isinstance(model, CharRNNModel):
        raise CheckpointError(prior, f"holds a {model.name} model; optimize needs a charrnn prior")
    return model


FOCUSED = "focused"
"""The run's focused prior (``RUN/focused/model``), when ``focus_epochs`` > 0."""


def _reference(
    prior: str | Path | None,
    activity: str | Path | None,
    focus: dict[str, Any],
    run: RunDirectory,
    resume: bool,
    versions: dict[str, Any],
) -> CharRNNModel:
    """The fixed prior of the optimisation: ``prior`` itself, or (``focus["epochs"]`` > 0) it
    fine-tuned on the activity model's training molecules, saved in ``RUN/focused`` (read back
    on resume: the same prior as the run that was killed)."""
    folder = run.file(FOCUSED)
    if not focus["epochs"]:
        return _load_prior(prior)
    if resume:
        return _load_prior(folder)
    reference = _load_prior(prior)
    molecules = load_activity_run(str(activity)).model.domain_.smiles
    started = time.perf_counter()
    reference.fine_tune(molecules, epochs=focus["epochs"], lr=focus["lr"])
    reference.save(folder / "model", versions=versions)
    logger.info(
        "focused the prior on %d training molecules of %s (%d epochs, %.1f s)",
        len(molecules), activity, focus["epochs"], time.perf_counter() - started,
    )  # fmt: skip
    return reference


def _read_config(out: Path) -> dict[str, Any]:
    path = out / "config.json"
    try:
        config = read_json(path)
        _ = [
            config[k]
            for k in ("prior", "activity", "objective", "seed", "batch_size", "sigma", "lr", "focus")
        ]
    except (OSError, ValueError, KeyError) as exc:
        reason = f"not the config of an optimize run ({exc}); run without --resume first"
        raise CheckpointError(path, reason) from None
    return config


class _Loop:
    """The optimisation's state (agent, optimiser, random state, scored molecules) and its steps."""

    def __init__(
        self,
        prior: CharRNNModel,
        objective: Objective,
        diversity: DiversityFilter,
        memory: ReplayMemory,
        config: dict[str, Any],
        run: RunDirectory,
        versions: dict[str, Any],
    ):
        self.prior, self.objective, self.diversity, self.config = prior, objective, diversity, config
        self.memory = memory
        self.folder, self.versions = run, versions
        self.agent = copy.deepcopy(prior)  # trained; the prior stays fixed
        self.device = resolve_device(self.agent.device)
        torch.manual_seed(config["seed"])
        self.generator = torch.Generator(device=self.device).manual_seed(config["seed"])
        self.optimizer = Adam(self.agent.network_.parameters(), lr=config["lr"])
        self.prior.network_.eval()
        self.agent.network_.eval()  # no dropout: the likelihood of exactly what was sampled
        self.step, self.calls = 0, 0
        self.scores: dict[str, float] = {}
        self.rows: list[dict[str, Any]] = []
        self.step_rows: list[dict[str, Any]] = []
        self.collapse_steps: list[int] = []
        self.columns = [*MOLECULE_COLUMNS, *objective.columns[1:], "error"]

    # ----------------------------------------------------------------- the steps
    def run(
        self, budget: int, max_steps: int, checkpoint_every: int, collapse_below: float, progress: bool
    ) -> None:
        collapsed = False
        with RowProgress("optimizing", budget, progress) as bar:
            bar.advance(min(self.calls, budget), "")
            while self.calls < budget and self.step < max_steps:
                record = self._step(budget)
                is_collapsed = record["unique_fraction"] < collapse_below
                if is_collapsed and not collapsed:
                    logger.warning(
                        "step %d: only %.0f%% of the batch is distinct molecules (mode collapse); "
                        "see plots/unique_fraction.png, lower --sigma or raise the diversity filter",
                        self.step, 100 * record["unique_fraction"],
                    )  # fmt: skip
                if is_collapsed:
                    self.collapse_steps.append(self.step)
                collapsed = is_collapsed
                status = f"best {record['best_score']:.3f}  distinct {record['unique_fraction']:.2f}"
                bar.advance(record["new"], status)
                if self.step % checkpoint_every == 0:
                    self.checkpoint()
        if self.step_rows and self.step % checkpoint_every:
            self.checkpoint()
        if self.calls < budget:
            logger.warning(
                "stopped after %d steps with %d of %d calls: too few new molecules",
                self.step,
                self.calls,
                budget,
            )

    def _step(self, budget: int) -> dict[str, Any]:
        self.step += 1
        n = self.config["batch_size"]
        with torch.no_grad():
            ids, table = self.agent.sample_tokens(n, self.generator)
        smiles = table["smiles"].tolist()
        valid = table["valid"].to_numpy(bool)
        new: list[int] = []
        firsts: set[str] = set()
        for i in np.flatnonzero(valid):
            if smiles[i] not in self.scores and smiles[i] not in firsts:
                firsts.add(smiles[i])
                new.append(int(i))
        scored, unscored = new[: budget - self.calls], new[budget - self.calls :]
        frame = self.objective.score([smiles[i] for i in scored])
        reward = np.zeros(n)
        for i, row in zip(scored, frame.to_dict("records"), strict=True):
            scaffold = murcko_scaffold(smiles[i])
            reward[i] = self.diversity.reward(scaffold, row["score"])
            self.memory.add(smiles[i], table["raw"][i], reward[i])
            self.scores[smiles[i]] = row["score"]
            self.rows.append(
                {"step": self.step, "smiles": smiles[i], "raw": table["raw"][i], "scaffold": scaffold,
                 "reward": reward[i], **row}
            )  # fmt: skip
        if not self.diversity.enabled:  # repeats score as before; the filter gives them 0 (REINVENT)
            for i in np.flatnonzero(valid):
                if reward[i] == 0 and i not in scored and smiles[i] in self.scores:
                    reward[i] = self.scores[smiles[i]]
        for i in np.flatnonzero(~valid):
            self.rows.append(
                {"step": self.step, "smiles": "", "raw": table["raw"][i], "scaffold": "", "score": 0.0,
                 "reward": 0.0, "error": table["error"][i]}
            )  # fmt: skip
        self.calls += len(scored)
        mask = np.ones(n, bool)
        mask[unscored] = False  # over the budget: not scored, so not learned from
        loss = self._learn(ids, reward, mask)
        batch_scores = np.array(
            [self.scores.get(s, 0.0) if ok else 0.0 for s, ok in zip(smiles, valid, strict=True)]
        )
        called = np.fromiter(self.scores.values(), float)
        record = {
            "step": self.step, "sampled": n, "valid_fraction": float(valid.mean()),
            "unique_fraction": len(set(np.asarray(smiles, object)[valid])) / n, "new": len(scored),
            "calls": self.calls, "loss": loss, "mean_score": float(batch_scores.mean()),
            "best_score": float(called.max()) if len(called) else 0.0, "top10_mean": top_k_mean(called, 10),
        }  # fmt: skip
        self.step_rows.append(record)
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}
        logger.debug("step %d: %s", self.step, shown)
        return record

    def _learn(self, ids: torch.Tensor, reward: np.ndarray, mask: np.ndarray) -> float:
        """One Adam step on the augmented-likelihood loss over the ``mask`` ed rows and the
        molecules replayed from memory (drawn by a generator of the seed and step: a resumed
        run draws the same)."""
        replayed = self.memory.draw(np.random.default_rng([self.config["seed"], self.step]))
        rows = [self._difference(ids[torch.as_tensor(mask)], reward[mask])]
        if replayed:
            rep = self.agent.representation_
            encoded = [self.agent.vocabulary_.encode(rep.tokenize(raw)) for raw, _ in replayed]
            rows.append(self._difference(pad_batch(encoded), np.array([r for _, r in replayed])))
        loss = (torch.cat(rows) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    def _difference(self, ids: torch.Tensor, reward: np.ndarray) -> torch.Tensor:
        """``log P_prior + sigma * reward - log P_agent`` of each sequence (``B``)."""
        ids = ids.to(self.device)
        agent_logp = -self.agent.network_.nll(ids)
        with torch.no_grad():
            prior_logp = -self.prior.network_.nll(ids)
        reward_t = torch.as_tensor(reward, dtype=prior_logp.dtype, device=self.device)
        return prior_logp + self.config["sigma"] * reward_t - agent_logp

    # ------------------------------------------------------- tables and metrics
    def molecules(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.columns)

    def steps(self) -> pd.DataFrame:
        return pd.DataFrame(self.step_rows, columns=list(STEP_COLUMNS))

    def metrics(self, budget: int, seconds: float) -> dict[str, Any]:
        called = np.fromiter(self.scores.values(), float)
        steps = self.steps()
        return {
            "calls": self.calls,
            "budget": budget,
            "steps": self.step,
            "sampled": int(steps["sampled"].sum()),
            "valid_fraction": float(steps["valid_fraction"].mean()) if len(steps) else math.nan,
            "best_score": float(called.max()) if len(called) else math.nan,
            "top10_mean": top_k_mean(called, 10),
            "top100_mean": top_k_mean(called, 100),
            "auc_top10": top_k_auc(called, 10, budget),
            "collapse_steps": self.collapse_steps,
            "seconds": seconds,
        }

    # ---------------------------------------------------------- checkpointing
    def checkpoint(self) -> None:
        """Write the CSV files, then the checkpoint (a killed write leaves the previous one)."""
        self.folder.write_table("molecules.csv", self.molecules())
        self.folder.write_table("steps.csv", self.steps())
        state = {"version": 1, "step": self.step, "calls": self.calls, "collapse_steps": self.collapse_steps}
        write_checkpoint(
            self.folder.file(CHECKPOINT), self.agent, self.optimizer.state_dict(), self.versions,
            {RNG_FILE: {"generator": self.generator.get_state()}}, {STATE_FILE: state},
        )  # fmt: skip

    def restore(self) -> None:
        """Continue from the checkpoint in the run directory: agent, optimiser, random state,
        the molecules scored up to it (their cache and the diversity filter's buckets)."""
        folder = self.folder.file(CHECKPOINT)
        hint = "run without --resume first"
        self.agent, optimizer_state = read_checkpoint(folder, "charrnn", self.folder.path, hint)
        self.agent.network_.eval()
        self.optimizer = Adam(self.agent.network_.parameters(), lr=self.config["lr"])
        self.optimizer.load_state_dict(optimizer_state)
        self.generator.set_state(read_tensors(folder / RNG_FILE, "random state")["generator"])
        try:
            state = read_json(folder / STATE_FILE)
            molecules = pd.read_csv(self.folder.file("molecules.csv"), keep_default_na=False, na_values=[""])
            steps = pd.read_csv(self.folder.file("steps.csv"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(folder, f"cannot resume: {' '.join(str(exc).split())}") from None
        self.step, self.calls = int(state["step"]), int(state["calls"])
        self.collapse_steps = list(state.get("collapse_steps", []))
        molecules = molecules[molecules["step"] <= self.step]
        for column in ("smiles", "raw", "scaffold"):
            molecules[column] = molecules[column].fillna("")
        molecules["error"] = molecules["error"].astype(object).where(molecules["error"].notna(), None)
        self.rows = molecules.to_dict("records")
        scored = molecules[molecules["smiles"] != ""]
        if len(scored) != self.calls:
            reason = f"molecules.csv holds {len(scored)} scored molecules, the checkpoint {self.calls}"
            raise CheckpointError(folder, reason)
        columns = (scored["smiles"], scored["raw"], scored["scaffold"], scored["score"])
        for smiles, raw, scaffold, score in zip(*columns, strict=True):
            self.scores[smiles] = float(score)
            self.memory.add(smiles, raw, self.diversity.reward(scaffold, float(score)))
        self.step_rows = steps[steps["step"] <= self.step].to_dict("records")
        logger.info("resuming after step %d with %d calls", self.step, self.calls)


class _CallableModule(types.ModuleType):
    """Importing this module sets ``biomodels.generate.optimize`` (the package attribute) to the
    module, shadowing the function the package exports under the same name: so the module
    calls through to :func:`optimize`, and ``biomodels.generate.optimize(...)`` always works."""

    def __call__(self, *args: Any, **kwargs: Any) -> OptimizeResult:
        return optimize(*args, **kwargs)


__signature__ = inspect.signature(optimize)
sys.modules[__name__].__class__ = _CallableModule
