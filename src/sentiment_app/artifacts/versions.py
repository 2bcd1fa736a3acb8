"""The model registry: every trained model as a numbered version with its family, data fingerprint,
metrics and an approval status, as SageMaker's Model Registry keeps a model package group.

``<home>/registry/registry.json`` is rewritten whole (atomically) under an exclusive lock on
``<home>/registry/.lock``, so two processes registering at once both get their versions; with an
``s3://`` store each write is mirrored to ``registry/registry.json`` in the store. Only an approved
version is served by default (:func:`sentiment_app.artifacts.locate.resolve_model_dir`).
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sentiment_app.artifacts.model_dir import CONFIG, MANIFEST, METRICS, WEIGHTS
from sentiment_app.errors import ArtifactError
from sentiment_app.fileio import atomic_write_bytes, creating
from sentiment_app.settings import Settings
from sentiment_app.store import open_store

PENDING, APPROVED, REJECTED = "PendingManualApproval", "Approved", "Rejected"  # SageMaker's ModelApprovalStatus
STORE_KEY = "registry/registry.json"
VERSION = re.compile(r"[vV]?([0-9]+)")
"""How ``--model`` names a version: ``3`` or ``v3``."""


def registry_file(settings: Settings) -> Path:
    return settings.home / "registry" / "registry.json"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_versions(settings: Settings) -> list[dict[str, Any]]:
    """Every version, oldest first (a reader needs no lock: the file is replaced whole)."""
    path = registry_file(settings)
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8"))["versions"]
    except (ValueError, KeyError) as exc:
        raise ArtifactError(f"{path} is not a model registry; move it aside to start a new one") from exc


@contextmanager
def _locked(settings: Settings) -> Iterator[list[dict[str, Any]]]:
    """The versions to change in place; written back (and mirrored) when the block succeeds."""
    path = registry_file(settings)
    with creating(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(".lock"), "a")
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        versions = read_versions(settings)
        before = json.dumps(versions)
        yield versions
        if json.dumps(versions) == before:
            return
        data = json.dumps({"versions": versions}, indent=2).encode()
        atomic_write_bytes(path, data)
        if settings.store.startswith("s3://"):
            open_store(settings.store).put_bytes(STORE_KEY, data)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} is missing or not JSON: a model folder to register needs it") from exc


def register(settings: Settings, model_dir: Path) -> dict[str, Any]:
    """The version of the model in ``model_dir``, added as the next number (pending approval) unless
    these very weights in this folder are registered already. Extra training reviews the job recorded
    (``extra_data`` in its metrics: rows and fingerprint) are recorded on the version too."""
    model_dir = model_dir.resolve()
    manifest = _read_json(model_dir / MANIFEST)
    weights = manifest["files"][WEIGHTS][:12]
    with _locked(settings) as versions:
        for version in versions:
            if version["model_dir"] == str(model_dir) and version["model_version"] == weights:
                return version
        trained = _read_json(model_dir / METRICS)
        validation = trained.get("val_accuracy")
        version = {"version": max((v["version"] for v in versions), default=0) + 1,
                   "family": _read_json(model_dir / CONFIG)["model"], "status": PENDING, "created": now(),
                   "model_dir": str(model_dir), "model_version": weights,
                   "data_fingerprint": manifest["data_fingerprint"],
                   **({"extra_data": trained["extra_data"]} if trained.get("extra_data") else {}),
                   "metrics": {} if validation is None else {"val_accuracy": validation}}
        versions.append(version)
        return version


def version_number(name: str | int) -> int | None:
    """``3``, ``"3"`` or ``"v3"`` → 3; anything else → None."""
    match = VERSION.fullmatch(str(name))
    return int(match.group(1)) if match else None


def get_version(settings: Settings, name: str | int) -> dict[str, Any]:
    number = version_number(name)
    found = next((v for v in read_versions(settings) if v["version"] == number), None)
    if found is None:
        raise ArtifactError(f"No model version {name} in {registry_file(settings)}; "
                            "see `sentiment-app models versions`.")
    return found


def _update(settings: Settings, name: str | int, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    number = get_version(settings, name)["version"]
    with _locked(settings) as versions:
        found = next(v for v in versions if v["version"] == number)
        change(found)
        return found


def set_status(settings: Settings, name: str | int, status: str) -> dict[str, Any]:
    """Approve or reject a version (either may be undone by the other)."""
    return _update(settings, name, lambda v: v.update(status=status, status_changed=now()))


def find_version(settings: Settings, model_dir: Path) -> dict[str, Any] | None:
    """The newest version registered for the folder, if any."""
    model_dir = model_dir.resolve()
    return next((v for v in reversed(read_versions(settings)) if v["model_dir"] == str(model_dir)), None)


def evaluation_figures(result: dict[str, Any]) -> dict[str, Any]:
    """What an evaluation (:func:`sentiment_app.pipeline.evaluate`) records on a version."""
    return {"accuracy": result["accuracy"], "roc_auc": result["roc_auc"], "short": result["short"],
            "calibration_error": result["calibration_error"],
            "behaviour_pass_rate": result["behaviour"]["pass_rate"], "test_fingerprint": result["test_fingerprint"],
            "evaluated": now()}


def record_metrics(settings: Settings, model_dir: Path, figures: dict[str, Any]) -> dict[str, Any] | None:
    """Merge ``figures`` into the metrics of the folder's version; None for an unregistered model."""
    found = find_version(settings, model_dir)
    if found is None:
        return None
    return _update(settings, found["version"], lambda v: v["metrics"].update(figures))


def newest_approved(settings: Settings) -> dict[str, Any] | None:
    return max((v for v in read_versions(settings) if v["status"] == APPROVED), key=lambda v: v["version"],
               default=None)


def rule_figures(version: dict[str, Any]) -> dict[str, float]:
    """The three figures of docs/models.md's rule that the version has: validation accuracy, the yelp
    and amazon short sentences' mean accuracy, the behavioural pass rate."""
    metrics = version["metrics"]
    short = metrics.get("short") or {}
    figures = {"val_accuracy": metrics.get("val_accuracy"), "behaviour_pass_rate": metrics.get("behaviour_pass_rate"),
               "short_other_products": (short["yelp"] + short["amazon"]) / 2 if {"yelp", "amazon"} <= set(short)
               else None}
    return {name: value for name, value in figures.items() if value is not None}


def approve_if_better(settings: Settings, name: str | int) -> tuple[bool, str]:
    """Approve a pending version when it beats the newest approved one by the rule's mean, over the
    figures both have (or when none is approved); return whether it did and why."""
    candidate, approved = get_version(settings, name), newest_approved(settings)
    if candidate["status"] != PENDING:  # a person's decision stands
        return False, f"version {candidate['version']} is {candidate['status']} already; left as it is"
    if approved is None:
        set_status(settings, name, APPROVED)
        return True, f"version {candidate['version']} approved: no version was approved before"
    mine, theirs = rule_figures(candidate), rule_figures(approved)
    shared = sorted(set(mine) & set(theirs))
    if not shared:
        return False, (f"version {candidate['version']} left pending: it shares no figure of the rule with "
                       f"approved version {approved['version']}")
    score, rival = (sum(figures[n] for n in shared) / len(shared) for figures in (mine, theirs))
    compared = f"mean of {', '.join(shared)}: {score:.4f} vs {rival:.4f} for approved version {approved['version']}"
    if score > rival:
        set_status(settings, name, APPROVED)
        return True, f"version {candidate['version']} approved: {compared}"
    return False, f"version {candidate['version']} left pending: {compared}"
