"""Training-memory estimator: a breakdown per component, the total, and the cheapest fix.

It prices the program ftui runs (TRL 1.x ``SFTTrainer`` over transformers 5 + PEFT, see
``ftui.train.hf_backend``), starting from the formulas of ``shared/reference/training.md``
(bytes; N = all parameters, P = LoRA parameters, T = tokens per micro-batch):

- full fine-tuning. ``amp`` (what ``precision: auto`` trains: fp32 weights loaded, bf16
  autocast): fp32 weights + fp32 grads + fp32 AdamW states = 16·N. ``bf16`` (the explicit
  ``precision: bf16`` recipe: weights loaded in bf16, no fp32 master copy): 2 + 2 + 4
  (AdamW states follow the parameter dtype) = 8·N. An 8-bit optimizer holds 2 B/param of
  states either way (bf16 + 8-bit = 6·N). ``fp32``: as amp, with fp32 activations.
- LoRA on a bf16 base: 2·N, plus adapters in fp32 (PEFT's ``autocast_adapter_dtype=True``
  default upcasts them; TRL only turns that off under ZeRO-3) with fp32 grads and Adam
  states: 16·P (10·P with an 8-bit optimizer). On an fp32 base (``fp16``/``fp32``): 4·N.
- QLoRA: NF4 + double quantisation = 4.127 bits per decoder Linear weight; everything else
  (embeddings, LM head, norms) is upcast to fp32 by ``prepare_model_for_kbit_training``:
  4·N_rest. TRL then casts the trainable adapters of a quantised model to bf16, so their
  grads and Adam states are bf16 too: 8·P (6·P with an 8-bit optimizer).
- activations (bf16, SDPA/flash attention): checkpointing on ≈ r·h·L·T + 2·T·(6h+2kv+3i),
  off ≈ 2·L·T·(6h+2kv+3i), where r = 2 bytes, or 4 when the embeddings are fp32 (amp,
  fp32 base, QLoRA's upcast): the residual stream then stays fp32 through every layer, and
  the two norms of each live layer keep fp32 inputs (+4·T·h). fp32 precision doubles it all.
  QLoRA: a 4-bit Linear hands back fp32 behind the fp32 norms, so the MLP's T·i tensors are
  fp32: +6·T·i − 6·T·h per layer (measured; ``activation_bytes``).
  LoRA adds, per targeted module of a live layer, the copy of its input that PEFT casts to
  the adapter dtype and ``lora_A`` saves (2 B/element) and the dropout mask (1 B, when
  ``lora_dropout`` > 0): Σ fan_in · T · 3 bytes — small with checkpointing, large without.
- the loss. TRL 1.x patches the model with a fused LM head (``add_fused_lm_head``): the
  log-probabilities come from ``[4096 tokens × 32768 vocab]`` tiles and the logits are
  never materialised (``chunked``): one tile (2 B/element under autocast), the hidden
  states it keeps (r·T·h), their fp32 gradient accumulator (4·T·h) and its cast, a 16-bit
  copy of a weight slice when the LM head is fp32, and, for full fine-tuning of bf16
  weights, the LM head's fp32 gradient accumulator (4·V·h). ``plain`` (≈ 10·T·V: bf16
  logits, their fp32 upcast and gradient) is charged only where full logits really exist:
  ``label_smoothing_factor`` > 0 or a ``compute_loss_func`` (TRL then runs a full-logits
  forward). ``use_liger_kernel`` does not change it: TRL 1.x refuses Liger's fused linear
  cross-entropy and keeps its own head. ``fused`` (≈ 0) is a what-if for other trainers.
- overhead: a CUDA context (default 0.75 GB, typically 0.5–1.3 GB) plus allocator
  fragmentation, taken as 10% of the memory that churns every step (gradients,
  optimizer states, activations, the loss); weights are allocated once and barely fragment.

``precision: auto`` is priced as on a bf16-capable GPU. Everything is plain arithmetic, so
it is cheap enough to rerun on every keystroke.
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
LOSSES = ("chunked", "plain", "fused")  # chunked = TRL 1.x fused LM head (the default)
TARGET_PRESETS = ("all-linear", "attention")
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MAX_RANK = 1024
NF4_BITS = 4.127  # 4-bit NF4 + double-quantised absmax constants
TILE_TOKENS = 4096  # trl.kernels.chunked_logprob.TOKEN_CHUNK_SIZE
TILE_VOCAB = 32768  # trl.trainer.utils._CHUNKED_LOGPROB_CHUNK_SIZE
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
    loss: str = "chunked"
    lora_dropout: float = 0.05
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
    if not isinstance(setup.lora_dropout, (int, float)) or not 0 <= setup.lora_dropout < 1:
        raise AdvisorError(f"LoRA dropout must be in [0, 1) (got {setup.lora_dropout!r}); 0.05 is typical.")
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


def residual_bytes(setup: TrainSetup) -> int:
    """Bytes per element of the residual stream: fp32 when the embeddings are fp32 (see the module docstring)."""
    if setup.precision in ("amp", "fp32") or setup.method == "qlora":
        return 4
    return 2


def activation_bytes(
    arch: Architecture, tokens: int, grad_checkpointing: bool, residual: int = 2, quantized: bool = False
) -> float:
    """16-bit activations kept for the backward pass (SDPA/flash attention: no T² term).

    ``residual`` is the width of the residual stream in bytes (2, or 4 when the embeddings
    are fp32): it sets what a checkpointed layer keeps and widens the two norm inputs.
    ``quantized`` (QLoRA): a bitsandbytes 4-bit Linear computes in bf16 but hands back its
    output in its input's dtype, fp32 behind the upcast norms, so the MLP's three T·i
    tensors (gate, up, their product) are kept in fp32: +6·T·i, and 2·T·h fewer than the
    fp32 norm inputs suggest (saved tensors counted per layer under bf16 autocast on a
    4-bit Llama, tests/unit/test_advisor_vram.py; on an H200 an 8B QLoRA at 2 × 2048
    without checkpointing peaked at 57.4 GB where this formula without the term said 48.3).
    """
    h, kv, layers = arch.hidden_size, arch.kv_dim, arch.num_layers
    i = arch.intermediate_size * arch.experts_per_token
    per_layer = 2 * tokens * (6 * h + 2 * kv + 3 * i) + 2 * (residual - 2) * tokens * h
    if quantized:
        per_layer += 6 * tokens * i - 6 * tokens * h
    if grad_checkpointing:
        # each layer keeps only its input; one layer's activations are rebuilt at a time
        return residual * h * layers * tokens + per_layer
    return layers * per_layer


def adapter_activation_bytes(
    arch: Architecture, setup: TrainSetup, grad_checkpointing: bool | None = None
) -> float:
    """What LoRA layers add to the activations: per targeted module, the input copy cast for
    ``lora_A`` (2 B/element) and the dropout mask (1 B/element when dropout is on)."""
    if setup.method == "full":
        return 0.0
    gc = setup.grad_checkpointing if grad_checkpointing is None else grad_checkpointing
    share = arch.experts_per_token / max(arch.num_experts, 1)  # routed experts only see their tokens
    fan_in = sum(
        fin * (copies * share if copies > 1 else copies)
        for fin, _, copies in _targeted(arch, setup.lora_targets).values()
    )
    per_element = 2 + (1 if setup.lora_dropout > 0 else 0)
    per_layer = per_element * fan_in * setup.tokens
    return per_layer if gc else per_layer * arch.num_layers


def logits_bytes(arch: Architecture, tokens: int, loss: str, setup: TrainSetup | None = None) -> float:
    """The loss's memory: full logits (``plain``), TRL's tiled LM head (``chunked``) or none (``fused``)."""
    if loss == "plain":
        return 10.0 * tokens * arch.vocab_size
    if loss == "fused":
        return 0.0
    setup = setup or TrainSetup(seq_len=tokens)
    h, v = arch.hidden_size, arch.vocab_size
    compute = 4 if setup.precision == "fp32" else 2
    hidden = residual_bytes(setup)
    tile = min(tokens, TILE_TOKENS) * min(v, TILE_VOCAB) * compute
    kept = hidden * tokens * h  # the compacted hidden states saved for backward
    grad_hidden = 4 * tokens * h + hidden * tokens * h  # fp32 accumulator, then its cast
    head_fp32 = setup.method == "qlora" or setup.precision == "amp"  # an fp32 head is cast slice by slice
    weight_cast = min(v, TILE_VOCAB) * h * compute if head_fp32 else 0
    head_grad = 4.0 * v * h if setup.method == "full" and setup.precision == "bf16" else 0.0
    return tile + kept + grad_hidden + weight_cast + head_grad


def weights_basis(setup: TrainSetup) -> str:
    """One phrase for what the weights and optimizer cost per parameter (said by the form and the CLI)."""
    eight_bit = setup.optimizer in ("adamw_8bit", "paged_adamw_8bit")
    if setup.method == "full":
        if setup.precision == "bf16":
            return "pure bf16: bf16 weights, grads and " + ("8-bit AdamW, 6 B/param" if eight_bit else "AdamW states, 8 B/param")
        master = "fp32 weights" if setup.precision == "fp32" else "fp32 master weights (AMP)"
        return f"{master} + fp32 grads + " + ("8-bit AdamW, 10 B/param" if eight_bit else "fp32 AdamW, 16 B/param")
    if setup.method == "qlora":
        return "4-bit base, embeddings/head/norms upcast to fp32, bf16 adapters"
    base = "bf16 base" if setup.precision == "bf16" else "fp32 base"
    return f"{base} + fp32 adapters"


def _optimizer_bytes_per_param(optimizer: str, state_bytes_32bit: int) -> int:
    return 2 if optimizer in ("adamw_8bit", "paged_adamw_8bit") else state_bytes_32bit


def estimate(arch: Architecture, setup: TrainSetup, gpu_gb: float | None = None) -> Estimate:
    """The memory a training step peaks at, per component, in bytes."""
    validate_setup(arch, setup)
    validate_gpu_gb(gpu_gb)
    n = arch.n_params
    notes: list[str] = []
    if setup.method == "full":
        if setup.precision == "bf16":  # bf16 weights, no fp32 master copy; AdamW states follow them
            weights, grads = 2.0 * n, 2.0 * n
            optim = _optimizer_bytes_per_param(setup.optimizer, 4) * n
        else:  # fp32 master weights (amp) or plain fp32
            weights, grads = 4.0 * n, 4.0 * n
            optim = _optimizer_bytes_per_param(setup.optimizer, 8) * n
        trainable_params, trainable = n, 0.0
    else:
        p = lora_params(arch, setup.lora_r, setup.lora_targets)
        if setup.method == "qlora":
            # prepare_model_for_kbit_training upcasts everything not 4-bit to fp32
            weights = arch.n_linear * NF4_BITS / 8 + 4.0 * arch.n_rest
            adapter = 2  # TRL casts a quantised model's adapters to bf16
        else:
            weights = (4.0 if setup.precision in ("amp", "fp32") else 2.0) * n
            adapter = 4  # PEFT's autocast_adapter_dtype upcasts them to fp32
        trainable_params, trainable, grads = p, adapter * p, adapter * p
        optim = _optimizer_bytes_per_param(setup.optimizer, 2 * adapter) * p
    acts = activation_bytes(arch, setup.tokens, setup.grad_checkpointing, residual_bytes(setup),
                            quantized=setup.method == "qlora")
    acts += adapter_activation_bytes(arch, setup)
    if setup.precision == "fp32":
        acts *= 2
    logits = logits_bytes(arch, setup.tokens, setup.loss, setup)
    churn = grads + optim + acts + logits
    overhead = setup.cuda_context_gb * GB + FRAGMENTATION * churn
    if setup.optimizer.startswith("paged"):
        notes.append("paged optimizer: its states can spill to CPU RAM under pressure, so short peaks survive")
    if arch.num_experts > 1:
        notes.append("MoE: all experts counted as resident; activations for the routed experts only")
    if setup.method == "qlora":
        notes.append("QLoRA needs a CUDA GPU with bitsandbytes")
    if setup.method == "full" and setup.precision == "bf16":
        notes.append("pure bf16: weights and optimizer states in bf16, no fp32 master copy (tiny updates can round "
                     "away; keep the learning rate at 1e-5 or above)")
    total = weights + trainable + churn + overhead
    if setup.loss == "plain" and logits > 0.25 * total:
        notes.append(
            f"logits take {logits / GB:.1f} GB ({logits / total:.0%}) with full logits: TRL's own chunked LM head "
            "never builds them; it is off only with label_smoothing_factor or a compute_loss_func (--loss chunked to see)"
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
    batch); full fine-tuning in pure bf16 instead of fp32 master weights 1.5 (half the
    weight/optimizer memory; tiny updates can round away); LoRA instead of full 3; QLoRA
    instead of LoRA 2 (slower, a small quality cost); halving the rank 2 each (less
    capacity); halving the sequence length 4 each (long examples get cut). Every
    combination is tried: it is a few thousand sums. So a 7–8B full fine-tune on an
    80 GB card is offered the bf16 + 8-bit optimizer + checkpointing recipe before LoRA.
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

    precision_opts = [(setup.precision, None)]
    if setup.method == "full" and setup.precision in ("amp", "fp32"):
        says = "full fine-tune in pure bf16 (precision: bf16; no fp32 master weights)"
        precision_opts.append(("bf16", Change("precision", "bf16", 1.5, says)))

    best: Fix | None = None
    for (gc, c1), (opt, c2), (b, c3), (m, c4), (r, c5), (s, c6), (prec, c7) in itertools.product(
        gc_opts, optim_opts, batch_opts, method_opts, rank_opts, seq_opts, precision_opts
    ):
        if m == "full" and c5 is not None:
            continue  # rank means nothing without adapters
        if setup.method == "full" and m != "full" and c5 is not None:
            continue  # keep the default rank when switching to adapters
        if m != "full" and c7 is not None:
            continue  # pure bf16 is a full fine-tuning recipe; adapters get a bf16 base anyway
        if setup.method == "full" and m != "full" and prec == "amp":
            prec = "bf16"  # precision: auto trains adapters on a bf16 base
        changes = [c for c in (c1, c2, c3, c4, c5, c6, c7) if c is not None]
        cost = sum(c.cost for c in changes)
        if best is not None and cost > best.cost:
            continue
        candidate = replace(
            setup, grad_checkpointing=gc, optimizer=opt, micro_batch=b, method=m, lora_r=r, seq_len=s, precision=prec
        )
        est = estimate(arch, candidate, gpu_gb)
        if not est.fits:
            continue
        if best is None or cost < best.cost or (cost == best.cost and est.total < best.estimate.total):
            best = Fix(changes, est)
    return best
