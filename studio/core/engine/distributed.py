"""One training run over several processes: torch.distributed and DistributedDataParallel.

Every process (a rank) runs the same Trainer; torchrun (or srun) starts them and sets the
environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). CPU ranks talk through gloo,
CUDA ranks through NCCL, one GPU each (cuda:LOCAL_RANK). Every collective has a timeout, so a rank
that dies or hangs ends the run as failed instead of leaving the others waiting for ever.

The maths is the single-process run's: each rank takes its share of every global batch of the same
seeded order (distributed_data.ShardedBatchLoader), weights its loss by its share of the batch, and
DDP averages the gradients, which then equal the full batch's. BatchNorm statistics are per rank
unless sync_bn converts the model to SyncBatchNorm (CUDA only).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from studio.core.engine.devices import resolve_device
from studio.core.errors import StudioError

COLLECTIVE_TIMEOUT = timedelta(seconds=30)   # a training step's collective waiting longer: a rank is gone
# Waits that are long by nature (rank 0 downloads the data, or writes a checkpoint while the others wait
# at a barrier) go through the default group with this timeout; a rank that dies is noticed at once
# either way (its connections close), the timeouts catch ranks that hang.
SLOW_TIMEOUT = timedelta(minutes=30)
SYNC_BN_NEEDS_CUDA = ("--sync-bn needs CUDA GPUs (torch's SyncBatchNorm does not run on the CPU); leave it off: "
                      "each process then normalises with its own share of the batch.")


@dataclass
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    device: torch.device
    backend: str
    group: Any = None   # the training steps' group, with COLLECTIVE_TIMEOUT (None: the default group)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def threads(self, requested: int) -> int:
        """CPU threads per rank: the number asked for, else this machine's cores shared by its ranks."""
        if requested > 0:
            return requested
        return max(1, (os.cpu_count() or 1) // max(1, self.local_world_size))

    def all_sum(self, values: torch.Tensor, slow: bool = False) -> torch.Tensor:
        """The element-wise sum over ranks (float64 keeps loss x count sums exact enough)."""
        values = values.to(self.device, torch.float64)
        dist.all_reduce(values, op=dist.ReduceOp.SUM, group=None if slow else self.group)
        return values

    def barrier(self) -> None:
        """Wait for every rank, as long as SLOW_TIMEOUT (rank 0 alone writes the run folder meanwhile)."""
        if self.backend == "nccl":
            dist.barrier(device_ids=[self.device.index])
        else:
            dist.barrier()

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's `obj` on every rank (pickled: only between the run's own processes)."""
        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0, device=self.device if self.backend == "nccl" else None)
        return box[0]

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids, process_group=self.group)


def in_distributed_env() -> bool:
    """Started by torchrun (or srun): this process is one rank of a run."""
    return _env_ranks() is not None


def _env_ranks() -> tuple[int, int, int, int] | None:
    """(rank, world size, local rank, local world size) from torchrun's variables, else Slurm's."""
    env = os.environ
    if "RANK" in env and "WORLD_SIZE" in env:
        local = int(env.get("LOCAL_RANK", 0))
        return int(env["RANK"]), int(env["WORLD_SIZE"]), local, int(env.get("LOCAL_WORLD_SIZE", env["WORLD_SIZE"]))
    if "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
        per_node = env.get("SLURM_NTASKS_PER_NODE", env["SLURM_NTASKS"]).split("(")[0]
        return (int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"]), int(env.get("SLURM_LOCALID", 0)),
                int(per_node) if per_node.isdigit() else 1)
    return None


def init_distributed(device_name: str, *, sync_bn: bool = False,
                     timeout: timedelta = COLLECTIVE_TIMEOUT) -> DistContext:
    """Join the run's process group: gloo on CPU, NCCL on CUDA with this rank's GPU."""
    ranks = _env_ranks()
    if ranks is None:
        raise StudioError("This is not a distributed process: start it with torchrun (or `cnn-studio train "
                          "--nproc-per-node N`), or under srun with MASTER_ADDR and MASTER_PORT set.")
    rank, world, local_rank, local_world = ranks
    device = resolve_device(device_name)
    if device.type == "mps":
        raise StudioError("A distributed run trains on CPUs (gloo) or CUDA GPUs (NCCL), not on Apple MPS; "
                          "choose the device cpu.")
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise StudioError(f"Process {local_rank} on this machine has no GPU of its own (there are "
                              f"{torch.cuda.device_count()}): start at most one process per GPU.")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")   # a timed-out collective raises
    elif sync_bn:
        raise StudioError(SYNC_BN_NEEDS_CUDA)
    if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
        raise StudioError("MASTER_ADDR and MASTER_PORT must be set (torchrun sets them; under srun export "
                          "them, e.g. the first node's name and a free port).")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=SLOW_TIMEOUT)
    group = dist.new_group(backend=backend, timeout=timeout)
    return DistContext(rank, world, local_rank, local_world, device, backend, group)


def lost_rank_message(exc: BaseException) -> str | None:
    """The sentence for a collective that failed because another rank died or stopped answering."""
    text = str(exc).strip()
    kinds = tuple(k for k in (getattr(dist, "DistError", None),) if k is not None)
    words = ("gloo", "nccl", "connection closed", "connection reset", "timed out", "timeout", "broken pipe")
    if not (isinstance(exc, kinds) or any(w in text.lower() for w in words)):
        return None
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"^\[[^\]]*\]\s*", "", first).split(". ")[0][:200]   # gloo's "[file.cc:561] " goes
    return ("Another process of the distributed run died or stopped answering, so the run cannot go on "
            f"({first}). Resume it from its last checkpoint.")


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
