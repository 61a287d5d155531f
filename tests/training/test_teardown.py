"""Distributed teardown: no DDP wrapper is alive when ``train`` destroys the process group.

A reducer that outlives the group becomes its last owner and destroys the gloo group in the main thread
with the GIL held, joining a worker thread that waits for the GIL; the rank hangs at exit (seen in CI
as a ``torchrun`` resume that printed its result and never returned). Timing decides whether the hang
shows, so this checks the cause: every rank counts the live DDP objects at ``destroy_process_group``.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from .test_distributed import free_port

pytestmark = pytest.mark.slow

WORLD = 2


def live_ddp_wrappers() -> int:
    from torch.nn.parallel import DistributedDataParallel

    return sum(isinstance(obj, DistributedDataParallel) for obj in gc.get_objects())


def worker(rank: int, port: int, data: str, out: str) -> None:
    from hybridbatch.training import TrainConfig
    from hybridbatch.training.trainer import train

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    destroy, seen = dist.destroy_process_group, []

    def counting_destroy(*args, **kwargs) -> None:
        seen.append(live_ddp_wrappers())
        destroy(*args, **kwargs)

    dist.destroy_process_group = counting_destroy
    config = TrainConfig(
        model="builtin:tiny", data=[data], batch_size=8, steps=2, seed=0, out=out, show_progress=False
    )
    train(config)
    Path(out, f"teardown-rank{rank}.json").write_text(json.dumps(seen))


def test_no_ddp_wrapper_outlives_training(mlqa_small: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    mp.spawn(worker, args=(free_port(), str(mlqa_small), str(out)), nprocs=WORLD, join=True)
    for rank in range(WORLD):
        assert json.loads((out / f"teardown-rank{rank}.json").read_text()) == [0], f"rank {rank}"
