"""`python -m studio.distributed CONFIG`: one process of a distributed run, under torchrun or srun.

    torchrun --nproc-per-node 2 -m studio.distributed RUN/config.json --runs-dir runs
See core/engine/distributed_worker.py and the README's "Distributed runs".
"""
import sys

from studio.core.engine.distributed_worker import main

if __name__ == "__main__":
    sys.exit(main())
