"""The entry point's command line, as SageMaker script mode passes it: ``--family NAME`` and that
family's hyperparameters (each from the model registry, dashed, with the underscore spelling of the
original project's scripts accepted too), then the ``SM_*`` locations, each with a default that
works without them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sentiment_app.models.registry import MODELS, SEED_MODEL, TEXT, argument_names, get_spec


def requested_family(argv: list[str]) -> str:
    """The ``--family`` argument alone: it decides which other arguments exist."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--family", "--model", dest="family", default=SEED_MODEL)
    return p.parse_known_args(argv)[0].family


def parse_args(argv: list[str], description: str) -> argparse.Namespace:
    """Parse the entry point's arguments; anything the family does not take is refused."""
    base = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"))
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--family", "--model", dest="family", default=SEED_MODEL, choices=sorted(MODELS),
                   help="model family (--model is the older spelling)")
    family = requested_family(argv)
    for key, default in get_spec(family).hyperparameters.items() if family in MODELS else ():
        p.add_argument(*argument_names(key), dest=key, type=type(default), default=default, help=f"[{default}]")
    p.add_argument("--seed", type=int, default=1)
    if family in MODELS and get_spec(family).channel == TEXT:
        p.add_argument("--validation-fraction", type=float, default=0.1,
                       help="share of the training data held out (whole movies) for the family's own choices")
    # One thread by default: the networks here run many small kernels, too small to share across
    # cores, and threads waiting for each other on a busy machine cost more than they give.
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0 = torch's default)")
    p.add_argument("--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", base / "model")))
    p.add_argument("--data-dir", type=Path,
                   default=Path(os.environ.get("SM_CHANNEL_TRAINING", base / "input/data/training")))
    validation = os.environ.get("SM_CHANNEL_VALIDATION")
    p.add_argument("--validation-dir", type=Path, default=Path(validation) if validation else None,
                   help="lstm-seed reports its accuracy per epoch on it; the text families never read it")
    for name in get_spec(family).inputs if family in MODELS else ():
        given = os.environ.get(f"SM_CHANNEL_{name.upper()}")
        p.add_argument(f"--{name}-dir", type=Path, default=Path(given) if given else None,
                       help=f"the optional {name} channel (SM_CHANNEL_{name.upper()})")
    p.add_argument("--checkpoint-dir", type=Path, default=base / "checkpoints")
    return p.parse_args(argv)


def inputs(args: argparse.Namespace) -> dict[str, Path]:
    """The family's optional channels that were given: name → folder."""
    given = {name: getattr(args, f"{name}_dir") for name in get_spec(args.family).inputs}
    return {name: folder for name, folder in given.items() if folder is not None}


def hyperparameters(args: argparse.Namespace) -> dict:
    """The family's hyperparameters as parsed (registry keys → values)."""
    return {key: getattr(args, key) for key in get_spec(args.family).hyperparameters}
