"""Production variants: several models behind one endpoint, with traffic weights, as SageMaker's
endpoint configuration has them (``ProductionVariants`` and ``ShadowProductionVariants``).

An :class:`EndpointConfig` is plain data: parsed from ``NAME=MODEL:WEIGHT`` options or a
SageMaker-shaped JSON document, its model sources resolved to folders by whoever starts the server,
and handed to the server's workers as JSON. A :class:`Router` picks each request's variant by
weight; when the endpoint has a weights file it re-reads it whenever the file changes, so
``endpoint update-weights`` moves the split of running workers without a restart.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import os
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sentiment_app.errors import SentimentAppError
from sentiment_app.fileio import atomic_write_bytes

log = logging.getLogger(__name__)

DEFAULT_VARIANT = "AllTraffic"
"""The one variant of an endpoint created with a single model (SageMaker's usual name for it)."""
DEFAULT_WEIGHT = 1.0  # SageMaker's InitialVariantWeight default
NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
MAX_NAME = 63
"""SageMaker's rule for endpoint and variant names; it also keeps them safe as folder names."""
DOCUMENT_KEYS = {"VariantName", "ModelName", "InitialVariantWeight"}


def check_name(name: str, kind: str) -> str:
    """``name`` if it follows SageMaker's naming rule for a ``kind`` (endpoint or variant), else a clear error."""
    if len(name) > MAX_NAME or NAME_PATTERN.fullmatch(name) is None:
        raise SentimentAppError(f"Invalid {kind} name {name!r}: use at most {MAX_NAME} letters, digits and hyphens, "
                                "starting and ending with a letter or digit.")
    return name


def parse_weight(text: str, where: str) -> float:
    """A relative weight: a finite number, 0 or more."""
    try:
        weight = float(text)
    except ValueError:
        raise SentimentAppError(f"{where}: the weight {text!r} is not a number.") from None
    if not math.isfinite(weight) or weight < 0:
        raise SentimentAppError(f"{where}: the weight must be a finite number, 0 or more, not {text}.")
    return weight


@dataclass(frozen=True)
class VariantSpec:
    """One variant: its name, its model (a model source, or a folder once resolved; None is the
    default model) and its relative share of the traffic (unused for a shadow)."""

    name: str
    model: str | None = None
    weight: float = DEFAULT_WEIGHT

    @classmethod
    def parse(cls, text: str, shadow: bool = False) -> VariantSpec:
        """``NAME=MODEL:WEIGHT`` (the weight after the last colon, optional) or, for a shadow, ``NAME=MODEL``."""
        name, equals, model = text.partition("=")
        if not equals or not name or not model:
            shape = "NAME=MODEL" if shadow else "NAME=MODEL:WEIGHT"
            raise SentimentAppError(f"Variant {text!r} is not {shape}.")
        weight = DEFAULT_WEIGHT
        source, colon, last = model.rpartition(":")
        if not shadow and colon and not last.startswith("//"):  # s3://... has a colon of its own
            model, weight = source, parse_weight(last, f"Variant {name}")
        return cls(name, model, weight)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "weight": self.weight}


@dataclass(frozen=True)
class EndpointConfig:
    """The production variants (traffic split by weight) and the shadows (each gets a copy of every
    request; their answers are compared, never returned)."""

    production: tuple[VariantSpec, ...]
    shadows: tuple[VariantSpec, ...] = ()

    def __post_init__(self) -> None:
        if not self.production:
            raise SentimentAppError("An endpoint needs at least one production variant.")
        names = [variant.name for variant in (*self.production, *self.shadows)]
        for name in names:
            check_name(name, "variant")
        if duplicates := sorted({name for name in names if names.count(name) > 1}):
            raise SentimentAppError(f"Variant names must be unique; repeated: {', '.join(duplicates)}.")
        check_weights(self.weights)

    @classmethod
    def single(cls, model: str | Path | None = None) -> EndpointConfig:
        """One model taking all the traffic, as a plain endpoint."""
        return cls((VariantSpec(DEFAULT_VARIANT, None if model is None else str(model)),))

    @classmethod
    def parse(cls, variants: Sequence[str], shadows: Sequence[str] = (), model: str | None = None) -> EndpointConfig:
        """From ``--variant`` and ``--shadow-variant`` options; without variants, ``model`` takes all traffic."""
        if variants and model is not None:
            raise SentimentAppError("Give either a model or variants, not both.")
        production = tuple(VariantSpec.parse(text) for text in variants) or cls.single(model).production
        return cls(production, tuple(VariantSpec.parse(text, shadow=True) for text in shadows))

    @classmethod
    def from_document(cls, document: Any, where: str = "the variants document") -> EndpointConfig:
        """SageMaker's shape: ``{"ProductionVariants": [{"VariantName", "ModelName", "InitialVariantWeight"}],
        "ShadowProductionVariants": [...]}``, ``ModelName`` a model source. A shadow's weight is not used."""
        if not isinstance(document, dict) or not set(document) <= {"ProductionVariants", "ShadowProductionVariants"}:
            raise SentimentAppError(f"{where} must be a JSON object with ProductionVariants "
                                    "(and optionally ShadowProductionVariants).")

        def specs(key: str) -> tuple[VariantSpec, ...]:
            entries = document.get(key, [])
            if not isinstance(entries, list):
                raise SentimentAppError(f"{where}: {key} must be a list.")
            found = []
            for entry in entries:
                if (not isinstance(entry, dict) or not set(entry) <= DOCUMENT_KEYS
                        or not isinstance(entry.get("VariantName"), str) or not isinstance(entry.get("ModelName"), str)):
                    raise SentimentAppError(f"{where}: each of {key} needs VariantName and ModelName (strings) "
                                            f"and may have InitialVariantWeight, not {json.dumps(entry)}.")
                weight = parse_weight(str(entry.get("InitialVariantWeight", DEFAULT_WEIGHT)),
                                      f"{where}, variant {entry['VariantName']}")
                found.append(VariantSpec(entry["VariantName"], entry["ModelName"], weight))
            return tuple(found)

        return cls(specs("ProductionVariants"), specs("ShadowProductionVariants"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointConfig:
        """What :meth:`to_dict` wrote (an endpoint record, the server's arguments)."""
        return cls(tuple(VariantSpec(**v) for v in data["production"]), tuple(VariantSpec(**v) for v in data["shadows"]))

    def to_dict(self) -> dict[str, Any]:
        return {"production": [v.to_dict() for v in self.production], "shadows": [v.to_dict() for v in self.shadows]}

    @property
    def weights(self) -> dict[str, float]:
        return {variant.name: variant.weight for variant in self.production}

    def with_weights(self, weights: Mapping[str, float]) -> EndpointConfig:
        """The same variants with some weights changed; every name must be a production variant's."""
        if unknown := sorted(set(weights) - set(self.weights)):
            raise SentimentAppError(f"No production variant named {', '.join(unknown)}; "
                                    f"this endpoint has {', '.join(self.weights)}.")
        return replace(self, production=tuple(replace(v, weight=weights.get(v.name, v.weight)) for v in self.production))

    def resolved(self, resolve: Callable[[str | None], Path]) -> EndpointConfig:
        """Every model source replaced by the folder ``resolve`` finds for it."""
        return EndpointConfig(*(tuple(replace(v, model=str(resolve(v.model))) for v in group)
                                for group in (self.production, self.shadows)))

    @property
    def plain(self) -> bool:
        """One ``AllTraffic`` variant and no shadow: an endpoint as it is without variants."""
        return not self.shadows and [v.name for v in self.production] == [DEFAULT_VARIANT]

    def summary(self) -> str:
        """``model DIR``, or each variant with its model and weight."""
        if self.plain:
            return f"model {self.production[0].model}"
        return "variants " + ", ".join([f"{v.name}={v.model}:{v.weight:g}" for v in self.production]
                                       + [f"shadow {v.name}={v.model}" for v in self.shadows])

    def server_arguments(self) -> list[str]:
        """The endpoint server's options for these (resolved) variants: ``--model`` for one plain variant."""
        if self.plain:
            return ["--model", str(self.production[0].model)]
        return ([arg for v in self.production for arg in ("--variant", f"{v.name}={v.model}:{v.weight!r}")]
                + [arg for v in self.shadows for arg in ("--shadow-variant", f"{v.name}={v.model}")])


def check_weights(weights: Mapping[str, float]) -> None:
    if not any(weight > 0 for weight in weights.values()):
        raise SentimentAppError("At least one production variant needs a weight above 0.")


def parse_weights(pairs: Iterable[str]) -> dict[str, float]:
    """``NAME=WEIGHT`` pairs (``endpoint update-weights``)."""
    weights = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise SentimentAppError(f"{pair!r} is not NAME=WEIGHT.")
        weights[name] = parse_weight(value, f"Variant {name}")
    return weights


def write_weights(path: Path, weights: Mapping[str, float]) -> None:
    """Replace the weights file whole, so a worker reading it never sees half of it."""
    check_weights(weights)
    atomic_write_bytes(path, json.dumps({"weights": dict(weights)}, indent=2).encode())


class Router:
    """Picks a production variant at random in proportion to the weights (relative, need not sum to 1).

    With a ``weights_file`` each pick first compares the file's identity (inode, size, mtime) with
    the last one read, a single ``stat``; a changed file is read again, and one that cannot be
    read or names unknown variants is logged once and the weights in force are kept.
    """

    def __init__(self, weights: Mapping[str, float], weights_file: Path | None = None) -> None:
        self.names = list(weights)
        self.weights_file = weights_file if len(self.names) > 1 else None  # one variant has nothing to split
        self._seen: tuple[int, int, int] | None = None
        self._apply(weights)

    def _apply(self, weights: Mapping[str, float]) -> None:
        check_weights(weights)
        cumulative, total = [], 0.0
        for name in self.names:
            total += weights[name]
            cumulative.append(total)
        self.weights = dict(weights)
        self._cumulative, self._total = cumulative, total

    def choose(self) -> str:
        if self.weights_file is not None:
            self._reload_if_changed(self.weights_file)
        if len(self.names) == 1:
            return self.names[0]
        index = bisect.bisect_right(self._cumulative, random.random() * self._total)
        return self.names[min(index, len(self.names) - 1)]

    def _reload_if_changed(self, path: Path) -> None:
        try:
            stat = os.stat(path)
        except OSError:
            return  # no file (yet): the weights the server started with
        seen = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if seen == self._seen:
            return
        self._seen = seen
        try:
            weights = json.loads(path.read_text(encoding="utf-8"))["weights"]
            unknown = set(weights) - set(self.names)
            if unknown:
                raise SentimentAppError(f"unknown variants {sorted(unknown)}")
            self._apply({name: float(weights.get(name, self.weights[name])) for name in self.names})
        except (OSError, ValueError, KeyError, TypeError, SentimentAppError) as exc:
            log.warning("Ignoring the weights file %s (%s); the weights stay %s", path, exc, self.weights)
            return
        log.info("Variant weights are now %s", self.weights)
