"""Saving and restoring training state (to resume), and saving model checkpoints.

Training state lives in ``RUN/state/step-NNNNNNN/`` (trainable weights, optimiser,
RNG, progress); ``RUN/state/LATEST`` names the newest.  Each is written to a
temporary folder and renamed, then ``LATEST`` is replaced atomically, so a kill at
any moment leaves the previous state intact.  Model checkpoints (the things
generation loads) go to ``RUN/checkpoints/NAME/`` the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from judgeaudit.atomic import write_json_atomic, write_text_atomic

__all__ = ["write_json", "save_state", "load_latest_state", "save_model_checkpoint"]


def write_json(path: Path, obj) -> Path:
    """Write JSON atomically (temporary file in the same folder, then rename)."""
    return write_json_atomic(path, obj)


def _publish_dir(tmp: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def trainable_state(model) -> dict:
    """The parameters that train (all of them, or the LoRA adapters), on the CPU."""
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_state(run_dir: Path, *, step: int, model, optimizer, meta: dict) -> Path:
    """Save what resuming needs at ``step`` and point ``LATEST`` at it; keep only the newest."""
    import torch

    root = Path(run_dir) / "state"
    root.mkdir(parents=True, exist_ok=True)
    name, again = f"step-{step:07d}", 1
    while (root / name).exists():  # saved again at this step: never delete what LATEST names
        name, again = f"step-{step:07d}-{again}", again + 1
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}."))
    torch.save({"model": trainable_state(model), "optimizer": optimizer.state_dict(),
                "torch_rng": torch.get_rng_state()}, tmp / "state.pt")
    write_json(tmp / "meta.json", {**meta, "step": step})
    _publish_dir(tmp, root / name)
    write_text_atomic(root / "LATEST", name + "\n")
    for old in [*root.glob("step-*"), *root.glob(".step-*")]:  # older states, and leftovers of a kill
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return root / name


def load_latest_state(run_dir: Path, *, model, optimizer) -> dict | None:
    """Restore the newest saved state into ``model`` and ``optimizer``; its meta, or ``None``."""
    import torch

    root = Path(run_dir) / "state"
    latest = root / "LATEST"
    if not latest.is_file():
        return None
    folder = root / latest.read_text().strip()
    blob = torch.load(folder / "state.pt", map_location="cpu", weights_only=False)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in blob["model"].items():
            params[name].copy_(value.to(params[name].device))
    optimizer.load_state_dict(blob["optimizer"])
    torch.set_rng_state(blob["torch_rng"])
    return json.loads((folder / "meta.json").read_text())


def save_model_checkpoint(folder: Path, model, tokenizer, *, spec_dict: dict) -> Path:
    """``save_pretrained`` the model (or its adapter) and tokenizer into ``folder``, atomically."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    write_json(tmp / "checkpoint.json", spec_dict)
    _publish_dir(tmp, folder)
    for left in folder.parent.glob(f".{folder.name}.*"):  # a kill mid-save leaves these
        shutil.rmtree(left, ignore_errors=True)
    return folder
