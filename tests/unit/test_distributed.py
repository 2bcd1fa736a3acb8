"""Two-process training's arithmetic without processes: how a batch is sharded and weighted over
ranks, the single-process case, and the CLI option. (The real two-process runs:
``tests/system/test_distributed.py``.)"""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.models.lstm import LSTMClassifier
from sentiment_app.training import distributed


@pytest.mark.parametrize("size, world", [(50, 2), (7, 3), (64, 4), (1, 2), (2, 3)])
def test_shards_cover_each_batch_once_with_weights_that_average_to_its_mean(size: int, world: int) -> None:
    shards = [distributed.shard(100, 100 + size, distributed.Context(rank, world)) for rank in range(world)]
    real = [s for s in shards if s.weight > 0]
    assert [i for s in real for i in range(s.rows.start, s.rows.stop)] == list(range(100, 100 + size))
    # DDP divides the summed gradients by the world size: the weights must sum to it.
    assert sum(s.weight for s in shards) == pytest.approx(world)
    for s in shards:
        if s.weight == 0:  # a batch smaller than the world: a placeholder row that adds nothing
            assert s.rows.stop - s.rows.start == 1 and 100 <= s.rows.start < 100 + size


def test_single_process_is_the_plain_batch() -> None:
    context = distributed.setup({})
    assert context == distributed.Context() and not context.distributed and context.is_main
    part = distributed.shard(0, 50, context)
    assert part.rows == slice(0, 50) and part.weight == 1.0
    x = torch.arange(100)
    assert part.of(x).data_ptr() == x.data_ptr()  # a view, not a copy
    model = LSTMClassifier(4, 4, 10)
    assert distributed.wrap(model, context) is model
    assert distributed.mean_over_ranks(0.123, 7.0, context) == 0.123


@pytest.mark.parametrize("command", ["train", "pipeline"])
def test_nproc_per_node_option(command: str) -> None:
    runner = CliRunner()
    shown = runner.invoke(main, [command, "--help"])
    assert shown.exit_code == 0 and "--nproc-per-node" in shown.output and "global batch" in shown.output
    refused = runner.invoke(main, [command, "--nproc-per-node", "0"])
    assert refused.exit_code == 2 and "--nproc-per-node" in refused.output


SAGEMAKER_HOST = {"SM_HOSTS": '["algo-1", "algo-2", "algo-3"]', "SM_CURRENT_HOST": "algo-2", "SM_NUM_CPUS": "4"}


def test_a_host_of_a_multi_instance_sagemaker_job_is_its_place_in_sm_hosts() -> None:
    launch = distributed.launch(SAGEMAKER_HOST)
    assert launch == distributed.Launch(1, 3, 0, "tcp://algo-1:7777", threads=4)  # the first host is the master
    assert not distributed.is_main_process(SAGEMAKER_HOST)
    assert distributed.is_main_process({**SAGEMAKER_HOST, "SM_CURRENT_HOST": "algo-1"})
    moved = distributed.launch({**SAGEMAKER_HOST, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29400"})
    assert moved is not None and moved.init_method == "tcp://127.0.0.1:29400"
    with pytest.raises(RuntimeError, match="algo-9"):
        distributed.launch({**SAGEMAKER_HOST, "SM_CURRENT_HOST": "algo-9"})


def test_torchrun_wins_and_one_host_or_one_process_is_alone() -> None:
    torchrun = {**SAGEMAKER_HOST, "WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}
    assert distributed.launch(torchrun) == distributed.Launch(3, 4, 1, "env://")
    assert distributed.launch({"SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-1"}) is None
    assert distributed.launch({"WORLD_SIZE": "1", "RANK": "0"}) is None
    assert distributed.setup({"SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-1"}) == distributed.Context()
