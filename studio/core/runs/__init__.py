"""Run folders and checkpoints: the record of every training run.

A run folder holds config.json, metrics.jsonl (one line per event, appended and flushed),
status.json, checkpoints/{last,best}.pt and history/epoch_NNNN.npz (confusion matrix and
kernels of each finished epoch). Every file is written atomically or append-only, so a run
reads the same live, reopened, or after a crash. Checkpoints hold plain types only and are
read with torch.load(weights_only=True), always (studio.core.safe_load).

- jsonio: atomic writes and JSON reads
- checkpoint: the studio's checkpoint format (save, load into a model)
- importing: notebook state dicts (architecture guessing, mismatches in words)
- store: run folders (status, metrics, snapshots, listing)
- lock: the OS lock a training process holds on its run (liveness, one writer); docs/run-folder.md
- sources: where a model for inspection comes from (a run, a file, the demo model, ImageNet)
"""

from studio.core.runs.checkpoint import (
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    load_checkpoint,
    save_checkpoint,
)
from studio.core.runs.importing import extract_state_dict, import_state_dict, load_into
from studio.core.runs.jsonio import read_json, write_atomic, write_json
from studio.core.runs.loaded_model import LoadedModel
from studio.core.runs.store import (
    RUN_STATUSES,
    MetricsWriter,
    RunInfo,
    best_checkpoint,
    default_name_time,
    delete_run,
    epoch_records,
    is_running,
    list_runs,
    load_epoch_snapshot,
    new_run_dir,
    read_epoch_snapshots,
    read_metrics,
    read_run,
    read_status,
    rename_run,
    restore_missing_epoch_record,
    save_epoch_snapshot,
    write_status,
)
from studio.core.runs.lock import RunLock, check_not_locked, remove_leftover_temp_files
from studio.core.safe_load import MAX_CHECKPOINT_BYTES, read_checkpoint

__all__ = [
    "CHECKPOINT_FORMAT", "FORMAT_VERSION", "MAX_CHECKPOINT_BYTES", "LoadedModel", "MetricsWriter", "RUN_STATUSES",
    "RunInfo", "best_checkpoint", "delete_run", "epoch_records", "extract_state_dict", "import_state_dict", "load_into",
    "list_runs", "load_checkpoint", "load_epoch_snapshot", "new_run_dir", "read_checkpoint", "read_epoch_snapshots",
    "read_json", "read_metrics", "read_run", "read_status", "rename_run", "save_checkpoint", "save_epoch_snapshot",
    "write_atomic", "write_json", "write_status", "is_running", "restore_missing_epoch_record", "RunLock",
    "check_not_locked", "remove_leftover_temp_files", "default_name_time",
]
