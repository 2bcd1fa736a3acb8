"""Multi-process training with PyTorch's own engine: DistributedDataParallel, launched two ways.

``torchrun`` (locally, and what SageMaker's ``torch_distributed`` option runs on every GPU host)
gives each process ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
the process group is joined through ``env://``. A SageMaker job on several CPU instances has no
launcher (the SDK allows ``torch_distributed`` on GPU and Trainium instances only): the same entry
point runs once on every host, and the group is read from SageMaker's own variables: ``SM_HOSTS``
(the rank is the host's place in it), ``SM_CURRENT_HOST``, the first host as ``MASTER_ADDR`` and
port 7777 (as SageMaker's PyTorch toolkit sets them; either variable, when set, wins), and
``SM_NUM_CPUS`` threads. Without either (or with a world of one) nothing is initialised and every
helper here leaves the values alone, so a single-process run is exactly the plain loop.

Batch semantics: ``--batch-size`` stays the *global* batch, so a recipe means the same thing for
any number of processes. Every process walks the same batches in file order and takes a
contiguous share of each (rank r of w gets rows ``[start + r*n//w, start + (r+1)*n//w)``). Its
mean loss is weighted by ``w * share / n``, so DDP's average of the gradients is the gradient of
the whole batch's mean loss: N processes take the very optimizer steps one process takes (up to
float rounding), and the job's name, checkpoints and accuracy do not depend on the process count.
A share is empty only for a batch smaller than w (a short last batch); that process then runs one
row of the batch with weight 0, so it still joins the gradient all-reduce.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Context:
    """Where this process stands in the group; the default is the single-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone prints, writes checkpoints and writes the model artifacts."""
        return self.rank == 0


@dataclass(frozen=True)
class Launch:
    """How this process joins its group, read from its launcher's variables before joining."""

    rank: int
    world_size: int
    local_rank: int
    init_method: str
    threads: int | None = None  # intra-op threads of the one process on a host


SAGEMAKER_MASTER_PORT = "7777"


@dataclass(frozen=True)
class Shard:
    """This process's rows of one batch and the weight of its mean loss (see the module doc)."""

    rows: slice
    weight: float
    device: torch.device

    def of(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor[self.rows].to(self.device)


def backend() -> str:
    """``nccl`` when CUDA is available (one GPU per process), else ``gloo``."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def sagemaker_hosts(env: Mapping[str, str]) -> Launch | None:
    """One process per host of a SageMaker job without a launcher, from ``SM_HOSTS``/``SM_CURRENT_HOST``."""
    hosts = json.loads(env.get("SM_HOSTS", "[]"))
    if len(hosts) <= 1:
        return None
    current = env.get("SM_CURRENT_HOST")
    if current not in hosts:
        raise RuntimeError(f"SM_CURRENT_HOST {current!r} is not one of SM_HOSTS {hosts}")
    master = f"{env.get('MASTER_ADDR', hosts[0])}:{env.get('MASTER_PORT', SAGEMAKER_MASTER_PORT)}"
    threads = int(env["SM_NUM_CPUS"]) if env.get("SM_NUM_CPUS") else None
    return Launch(hosts.index(current), len(hosts), 0, f"tcp://{master}", threads)


def launch(environ: Mapping[str, str] | None = None) -> Launch | None:
    """This process's place in a group: torchrun's variables, else SageMaker's hosts; None alone."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" in env:
        world_size = int(env["WORLD_SIZE"])
        return Launch(int(env.get("RANK", "0")), world_size, int(env.get("LOCAL_RANK", "0")),
                      "env://") if world_size > 1 else None
    return sagemaker_hosts(env)


def is_main_process(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is rank 0 of its launch (or alone), known before any group is joined."""
    found = launch(environ)
    return found is None or found.rank == 0


def setup(environ: Mapping[str, str] | None = None) -> Context:
    """Join the process group this process was launched into, if there is one."""
    found = launch(environ)
    if found is None:
        return Context()
    name = backend()
    device = torch.device("cuda", found.local_rank) if name == "nccl" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if found.threads:
        torch.set_num_threads(found.threads)
    dist.init_process_group(name, init_method=found.init_method, rank=found.rank, world_size=found.world_size)
    return Context(dist.get_rank(), dist.get_world_size(), found.local_rank, device)


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def session(environ: Mapping[str, str] | None = None) -> Iterator[Context]:
    """``setup`` on entry, ``teardown`` on exit (also on error, so no process is left waiting)."""
    context = setup(environ)
    try:
        yield context
    finally:
        teardown()


def wrap(model: nn.Module, ctx: Context) -> nn.Module:
    """The module to train: ``model`` moved to the device and, in a group, wrapped in DDP.

    Evaluate and save ``model`` itself: its ``state_dict`` has no ``module.`` prefixes."""
    if not ctx.distributed:
        return model
    model.to(ctx.device)
    return DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)


def shard(start: int, stop: int, ctx: Context) -> Shard:
    """This process's contiguous share of the batch ``[start, stop)``."""
    size = stop - start
    first, last = start + ctx.rank * size // ctx.world_size, start + (ctx.rank + 1) * size // ctx.world_size
    if first == last:
        return Shard(slice(start, start + 1), 0.0, ctx.device)
    return Shard(slice(first, last), ctx.world_size * (last - first) / size, ctx.device)


def _all_reduce(values: list[float], ctx: Context) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def mean_over_ranks(value: float, weight: float, ctx: Context) -> float:
    """The ``weight``-weighted mean of ``value`` over all processes (e.g. accuracy by shard size);
    every process gets the same result, so decisions taken on it agree across ranks."""
    if not ctx.distributed:
        return value
    total, weights = _all_reduce([value * weight, weight], ctx)
    return total / weights


def barrier(ctx: Context) -> None:
    """Wait until every process gets here (the others wait while rank 0 writes)."""
    if ctx.distributed:
        dist.barrier(device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
