"""The choices the command line lists are the registries' names: nothing to keep in step by hand."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import typer

from biomodels.cli.main import app
from biomodels.registry import MODELS
from biomodels.screen.options import ACQUISITIONS, DEFAULT_PROPERTIES, POOLS
from biomodels.types import TASKS

CLI = Path(__file__).resolve().parents[2] / "biomodels" / "cli"


def _option(verb: str, name: str) -> click.Parameter:
    command = typer.main.get_command(app)
    for word in verb.split():
        command = command.commands[word]
    return next(p for p in command.params if name in p.opts)


def listed(help_text: str) -> list[str]:
    """Names an option's help lists: ``One of: a (what), b.`` or ``a | b | c``."""
    if "One of: " in help_text:
        items = help_text.split("One of: ", 1)[1].rstrip(".").split(", ")
        return [item.split(" (", 1)[0] for item in items]
    found = re.search(r"[\w-]+(?: \| [\w-]+)+", help_text)
    assert found, f"no choices in {help_text!r}"
    return found.group().split(" | ")


def _splitters() -> list[str]:
    """The molecule splits: every splitter but those of drug-target pairs."""
    from biomodels.data.splits import SPLITTERS

    return [name for name in SPLITTERS.names() if SPLITTERS.info(name).get("needs") != "pairs"]


def _pair_splitters() -> list[str]:
    from biomodels.dta import PAIR_SPLITS

    return list(PAIR_SPLITS)


def _heads() -> list[str]:
    from biomodels.nn.heads import HEADS

    return HEADS.names()


def _readouts() -> list[str]:
    from biomodels.nn.readout import READOUTS

    return ["auto", *READOUTS.names()]


@pytest.mark.parametrize(
    ("verb", "option", "names"),
    [
        ("train", "--model", lambda: MODELS.names(input="molecule")),
        ("train", "--split", _splitters),
        ("train", "--head", _heads),
        ("train", "--readout", _readouts),
        ("train", "--task", lambda: list(TASKS)),
        ("screen", "--acquisition", lambda: list(ACQUISITIONS)),
        ("dta train", "--split", _pair_splitters),
        ("screen", "--pool", lambda: list(POOLS)),
    ],
)
def test_listed_choices_are_the_registry_names(verb, option, names):
    assert sorted(listed(_option(verb, option).help)) == sorted(names())


def test_listing_parser_reads_both_forms():
    assert listed("GNNs: mean | sum | attention.") == ["mean", "sum", "attention"]
    assert listed("Ranking. One of: mean (the prediction), prob (P(value > t)).") == ["mean", "prob"]


def test_screen_options_are_what_the_library_accepts():
    from biomodels.chem.properties import PROPERTIES
    from biomodels.screen import RankingConfig, ScreenConfig

    assert _option("screen", "--properties").default == ",".join(DEFAULT_PROPERTIES)
    assert set(DEFAULT_PROPERTIES) <= set(PROPERTIES.names())
    for acquisition in ACQUISITIONS:
        RankingConfig(acquisition=acquisition, threshold=0.0)
    for pool in POOLS:
        ScreenConfig(pool=pool)


def test_diagnostics_models_are_the_registry_image_and_text_models():
    command = typer.main.get_command(app).get_command(None, "diagnostics").get_command(None, "train")
    model = next(p for p in command.params if p.name == "model")
    listed = [n.strip(" .") for n in model.help.split(":", 1)[1].split(",")]
    assert listed == MODELS.names(input="image") + MODELS.names(input="text")
