"""Where and in which arithmetic the networks run: the device, threads and mixed precision."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spectrocam.config import Section

__all__ = ["InferenceConfig", "choose_device", "autocast", "autocast_dtype"]


def choose_device(wanted: str = "auto", threads: int = 1) -> torch.device:
    """CUDA when present (or asked for), else CPU with ``threads`` intra-op threads."""
    if wanted == "cuda" or (wanted == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("training.device is cuda but no CUDA device is visible")
        # every batch has the same shape: let cuDNN time its algorithms once and keep the fastest
        torch.backends.cudnn.benchmark = True
        return torch.device("cuda")
    torch.set_num_threads(max(1, int(threads)))
    return torch.device("cpu")


def autocast(device: torch.device, dtype: torch.dtype | None):
    """Mixed precision on ``device`` when ``dtype`` is set (see :func:`autocast_dtype`)."""
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The dtype to autocast to: bfloat16 for ``"bfloat16"``, or for ``"auto"`` where the
    hardware computes it natively (a CUDA GPU that supports it, or a CPU with AMX or
    AVX512-BF16); None (float32) otherwise."""
    if precision == "float32":
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    cpu = torch._C._cpu
    native = cpu._is_amx_tile_supported() or cpu._is_avx512_bf16_supported()
    return torch.bfloat16 if native else None


@dataclass(frozen=True)
class InferenceConfig(Section):
    """The keys of the ``training`` section that the jobs after training use."""

    SECTIONS = ("training",)

    device: str = "auto"
    eval_batch_size: int = 64
    precision: str = "float32"
    # torch's CPU threads, whatever the scheduler gave the job: the figures depend on them
    threads: int = 8
