"""Training-memory estimator: a breakdown per component, the total, and the cheapest fix.

The formulas are the ones in ``shared/reference/training.md`` (bytes):

- full, bf16 weights + AdamW: 8 B/param (2 weights, 2 grads, 4 states in bf16);
  mixed precision with fp32 master weights + AdamW: 16 B/param; 8-bit states: 2 B/param.
- LoRA: the frozen base in bf16 (2·N) + adapters kept in fp32 with their grads and
  Adam states (16·P; 10·P with an 8-bit optimizer).
- QLoRA: NF4 + double quantisation = 4.127 bits per decoder Linear weight, the rest in bf16.
- activations (bf16, SDPA/flash attention): checkpointing on ≈ 2·h·L·T + 2·T·(6h+2kv+3i),
  off ≈ 2·L·T·(6h+2kv+3i).
- logits with plain cross-entropy ≈ 10·T·V bytes; chunked CE holds about one chunk of
  eight at a time; a fused linear+CE kernel (Liger) ≈ 0.
- overhead: a CUDA context (default 0.75 GB, typically 0.5–1.3 GB) plus allocator
  fragmentation, taken as 10% of the memory that churns every step (gradients,
  optimizer states, activations, logits); weights are allocated once and barely fragment.

Everything is plain arithmetic, so it is cheap enough to rerun on every keystroke.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from ftui.advisor.architectures import Architecture
from ftui.advisor.errors import AdvisorError

GB = 1e9
GIB = 2**30

METHODS = ("full", "lora", "qlora")
OPTIMIZERS = ("adamw_torch", "adamw_8bit", "paged_adamw_8bit")
PRECISIONS = ("bf16", "amp", "fp32")  # amp = 16-bit compute with fp32 master weights
LOSSES = ("plain", "chunked", "fused")
TARGET_PRESETS = ("all-linear", "attention")
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MAX_RANK = 1024
NF4_BITS = 4.127  # 4-bit NF4 + double-quantised absmax constants
CHUNKS = 8  # chunked cross-entropy: logits handled 1/8 at a time (torchtune, Liger default)
FRAGMENTATION = 0.10
CUDA_CONTEXT_GB = 0.75

COMPONENTS = ("weights", "trainable", "gradients", "optimizer", "activations", "logits", "overhead")
COMPONENT_LABELS = {
    "weights": "Weights (base model)",
    "trainable": "Trainable params (adapters)",
    "gradients": "Gradients",
    "optimizer": "Optimizer states",
    "activations": "Activations",
    "logits": "Logits / loss",
    "overhead": "CUDA context + fragmentation",
}


@dataclass(frozen=True)
class TrainSetup:
    """What the user plans to run; every field maps to a RunConfig/SFTConfig switch."""

    method: str = "lora"
    seq_len: int = 2048
    micro_batch: int = 1
    grad_checkpointing: bool = True
    optimizer: str = "adamw_torch"
    precision: str = "bf16"
    lora_r: int = 16
    lora_targets: str | tuple[str, ...] = "all-linear"
    loss: str = "plain"
    cuda_context_gb: float = CUDA_CONTEXT_GB

    @property
    def tokens(self) -> int:
        return self.seq_len * self.micro_batch


@dataclass
class Estimate:
    """Bytes per component (``breakdown``), the total and, when a GPU size is known, the verdict."""

    arch: Architecture
    setup: TrainSetup
    breakdown: dict[str, float]
    trainable_params: int
    gpu_gb: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.breakdown.values())

    @property
    def total_gb(self) -> float:
        return self.total / GB

    @property
    def torch_peak(self) -> float:
        """What ``torch.cuda.max_memory_reserved()`` would report: everything but the CUDA context."""
        return self.total - self.setup.cuda_context_gb * GB

    @property
    def fits(self) -> bool | None:
        return None if self.gpu_gb is None else self.total_gb <= self.gpu_gb

    def breakdown_gb(self) -> dict[str, float]:
        return {k: round(v / GB, 3) for k, v in self.breakdown.items()}


def validate_setup(arch: Architecture, setup: TrainSetup) -> None:
    """Raise AdvisorError (one line, with the fix) for a setup the estimator cannot price."""
    if setup.method not in METHODS:
        raise AdvisorError(f"method {setup.method!r} is not one of {', '.join(METHODS)}.")
    for name, value in (("sequence length", setup.seq_len), ("micro-batch", setup.micro_batch)):
        if not isinstance(value, int) or value <= 0:
            raise AdvisorError(f"{name} must be a whole number above 0 (got {value!r}).")
    if setup.optimizer not in OPTIMIZERS:
        raise AdvisorError(f"optimizer {setup.optimizer!r} is not one of {', '.join(OPTIMIZERS)}.")
    if setup.precision not in PRECISIONS:
        raise AdvisorError(f"precision {setup.precision!r} is not one of {', '.join(PRECISIONS)}.")
    if setup.loss not in LOSSES:
        raise AdvisorError(f"loss {setup.loss!r} is not one of {', '.join(LOSSES)}.")
    if setup.method != "full":
        limit = min(MAX_RANK, arch.hidden_size)
        if not isinstance(setup.lora_r, int) or not 1 <= setup.lora_r <= limit:
            raise AdvisorError(
                f"LoRA rank {setup.lora_r!r} is out of range: use 1..{limit} (8–64 is typical; 16 is a good start)."
            )
        _targeted(arch, setup.lora_targets)  # raises on unknown module names
    if setup.cuda_context_gb < 0:
        raise AdvisorError("the CUDA context size cannot be negative.")


def validate_gpu_gb(gpu_gb: float | None) -> None:
    if gpu_gb is not None and not gpu_gb > 0:
        raise AdvisorError(f"GPU memory must be above 0 GB (got {gpu_gb!r}); e.g. 24 for an RTX 4090, 80 for an H100.")


def _targeted(arch: Architecture, targets: str | tuple[str, ...] | list[str]) -> dict[str, tuple[int, int, int]]:
    modules = arch.linear_modules()
    if isinstance(targets, str):
        if targets == "all-linear":
            return modules
        if targets == "attention":
            return {k: v for k, v in modules.items() if k in ATTENTION_MODULES}
        targets = tuple(t.strip() for t in targets.split(",") if t.strip())
    unknown = [t for t in targets if t not in modules]
    if unknown or not targets:
        raise AdvisorError(
            f"unknown LoRA target module(s) {', '.join(unknown) or '(none)'}: use all-linear, attention, "
            f"or names from {', '.join(modules)}."
        )
    return {k: v for k, v in modules.items() if k in targets}


def lora_params(arch: Architecture, rank: int, targets: str | tuple[str, ...] = "all-linear") -> int:
    """P = r · L · Σ(in + out) over the targeted modules (each expert copy gets its own adapter)."""
    per_layer = sum((fan_in + fan_out) * copies for fan_in, fan_out, copies in _targeted(arch, targets).values())
    return rank * arch.num_layers * per_layer


def activation_bytes(arch: Architecture, tokens: int, grad_checkpointing: bool) -> float:
    """bf16 activations kept for the backward pass (SDPA/flash attention: no T² term)."""
    h, kv, layers = arch.hidden_size, arch.kv_dim, arch.num_layers
    i = arch.intermediate_size * arch.experts_per_token
    per_layer = 2 * tokens * (6 * h + 2 * kv + 3 * i)
    if grad_checkpointing:
        # each layer keeps only its input; one layer's activations are rebuilt at a time
        return 2 * h * layers * tokens + per_layer
    return layers * per_layer


def logits_bytes(arch: Architecture, tokens: int, loss: str) -> float:
    plain = 10 * tokens * arch.vocab_size
    return {"plain": plain, "chunked": plain / CHUNKS, "fused": 0.0}[loss]


def _optimizer_bytes_per_param(optimizer: str, state_bytes_32bit: int) -> int:
    return 2 if optimizer in ("adamw_8bit", "paged_adamw_8bit") else state_bytes_32bit


def estimate(arch: Architecture, setup: TrainSetup, gpu_gb: float | None = None) -> Estimate:
    """The memory a training step peaks at, per component, in bytes."""
    validate_setup(arch, setup)
    validate_gpu_gb(gpu_gb)
    n = arch.n_params
    notes: list[str] = []
    if setup.method == "full":
        if setup.precision == "bf16":
            weights, grads = 2.0 * n, 2.0 * n
            optim = _optimizer_bytes_per_param(setup.optimizer, 4) * n  # AdamW states in bf16
        else:  # fp32 master weights (amp) or plain fp32
            weights, grads = 4.0 * n, 4.0 * n
            optim = _optimizer_bytes_per_param(setup.optimizer, 8) * n
        trainable_params, trainable = n, 0.0
    else:
        p = lora_params(arch, setup.lora_r, setup.lora_targets)
        if setup.method == "qlora":
            weights = arch.n_linear * NF4_BITS / 8 + 2.0 * arch.n_rest
        else:
            weights = (4.0 if setup.precision in ("amp", "fp32") else 2.0) * n
        trainable_params, trainable, grads = p, 4.0 * p, 4.0 * p  # PEFT keeps adapters in fp32
        optim = _optimizer_bytes_per_param(setup.optimizer, 8) * p
    acts = activation_bytes(arch, setup.tokens, setup.grad_checkpointing)
    if setup.precision == "fp32":
        acts *= 2
    logits = logits_bytes(arch, setup.tokens, setup.loss)
    churn = grads + optim + acts + logits
    overhead = setup.cuda_context_gb * GB + FRAGMENTATION * churn
    if setup.optimizer.startswith("paged"):
        notes.append("paged optimizer: its states can spill to CPU RAM under pressure, so short peaks survive")
    if arch.num_experts > 1:
        notes.append("MoE: all experts counted as resident; activations for the routed experts only")
    if setup.method == "qlora":
        notes.append("QLoRA needs a CUDA GPU with bitsandbytes")
    total = weights + trainable + churn + overhead
    if setup.loss == "plain" and logits > 0.25 * total:
        notes.append(
            f"logits take {logits / GB:.1f} GB ({logits / total:.0%}) with plain cross-entropy: a fused linear+CE "
            "kernel removes most of it (--loss fused to see; train with liger-kernel installed and "
            "extra.use_liger_kernel: true)"
        )
    breakdown = {
        "weights": weights,
        "trainable": trainable,
        "gradients": grads,
        "optimizer": optim,
        "activations": acts,
        "logits": logits,
        "overhead": overhead,
    }
    return Estimate(arch, setup, breakdown, trainable_params, gpu_gb, notes)


# ---------------------------------------------------------------- the cheapest fix
@dataclass(frozen=True)
class Change:
    """One step away from the user's setup, with what it costs in quality or speed."""

    field: str
    value: object
    cost: float
    says: str


@dataclass
class Fix:
    changes: list[Change]
    estimate: Estimate

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.changes)

    def describe(self) -> str:
        if not self.changes:
            return "fits as is"
        steps = "; ".join(c.says for c in self.changes)
        return f"{steps} -> {self.estimate.total_gb:.1f} GB"


def _halvings(value: int, floor: int) -> list[int]:
    out = [value]
    while out[-1] // 2 >= floor:
        out.append(out[-1] // 2)
    return out


def cheapest_fix(arch: Architecture, setup: TrainSetup, gpu_gb: float) -> Fix | None:
    """The cheapest set of changes that makes the setup fit ``gpu_gb``, or None if nothing does.

    Costs (lower = cheaper; quality costs weigh more than speed costs): checkpointing 1
    (~25% slower, same result); 8-bit optimizer 1, paged 8-bit 1.5 (same result, less
    memory); halving the micro-batch 1 each (more accumulation steps, same effective
    batch); LoRA instead of full 3; QLoRA instead of LoRA 2 (slower, a small quality
    cost); halving the rank 2 each (less capacity); halving the sequence length 4 each
    (long examples get cut). Every combination is tried: it is a few thousand sums.
    """
    validate_gpu_gb(gpu_gb)
    base = estimate(arch, setup, gpu_gb)
    if base.fits:
        return Fix([], base)
    gc_opts = [(setup.grad_checkpointing, None)]
    if not setup.grad_checkpointing:
        gc_opts.append((True, Change("grad_checkpointing", True, 1.0, "turn on gradient checkpointing (~25% slower)")))
    optim_opts = [(setup.optimizer, None)]
    optim_cost = {"adamw_torch": 0, "adamw_8bit": 1.0, "paged_adamw_8bit": 1.5}
    for name in ("adamw_8bit", "paged_adamw_8bit"):
        if optim_cost[name] > optim_cost[setup.optimizer]:
            step = optim_cost[name] - optim_cost[setup.optimizer]
            optim_opts.append((name, Change("optimizer", name, step, f"use the {name} optimizer")))
    batch_opts = []
    for k, b in enumerate(_halvings(setup.micro_batch, 1)):
        says = f"micro-batch {b} with {setup.micro_batch // b}x more gradient accumulation"
        batch_opts.append((b, Change("micro_batch", b, 1.0 * k, says) if k else None))
    method_order = {"full": 0, "lora": 1, "qlora": 2}
    method_cost = {("full", "lora"): 3.0, ("full", "qlora"): 5.0, ("lora", "qlora"): 2.0}
    method_opts = [(setup.method, None)]
    for m in METHODS:
        if method_order[m] > method_order[setup.method]:
            says = {"lora": "train LoRA adapters instead of all weights", "qlora": "use QLoRA (4-bit base)"}[m]
            method_opts.append((m, Change("method", m, method_cost[(setup.method, m)], says)))
    rank_opts = []
    for k, r in enumerate(_halvings(setup.lora_r, 4)):
        rank_opts.append((r, Change("lora_r", r, 2.0 * k, f"LoRA rank {r}") if k else None))
    seq_opts = []
    for k, s in enumerate(_halvings(setup.seq_len, 256)):
        seq_opts.append((s, Change("seq_len", s, 4.0 * k, f"sequence length {s} (longer examples get cut)") if k else None))

    best: Fix | None = None
    for (gc, c1), (opt, c2), (b, c3), (m, c4), (r, c5), (s, c6) in itertools.product(
        gc_opts, optim_opts, batch_opts, method_opts, rank_opts, seq_opts
    ):
        if m == "full" and c5 is not None:
            continue  # rank means nothing without adapters
        if setup.method == "full" and m != "full" and c5 is not None:
            continue  # keep the default rank when switching to adapters
        changes = [c for c in (c1, c2, c3, c4, c5, c6) if c is not None]
        cost = sum(c.cost for c in changes)
        if best is not None and cost > best.cost:
            continue
        candidate = replace(
            setup, grad_checkpointing=gc, optimizer=opt, micro_batch=b, method=m, lora_r=r, seq_len=s
        )
        est = estimate(arch, candidate, gpu_gb)
        if not est.fits:
            continue
        if best is None or cost < best.cost or (cost == best.cost and est.total < best.estimate.total):
            best = Fix(changes, est)
    return best
