"""Model shapes the estimator needs, and size presets with real published dimensions.

A preset is a real model's ``config.json`` numbers (not a made-up "7B"), so an
estimate for "8B" is an estimate for Llama-3.1-8B and can be checked against what
people measured on it. Parameter counts follow from the shapes; nothing here loads
weights or imports an ML library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Architecture:
    """The dimensions of a decoder-only transformer that decide its training memory."""

    name: str
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    vocab_size: int
    tie_embeddings: bool = False
    head_dim: int | None = None  # when not hidden_size / num_heads (e.g. Gemma, Qwen3)
    qkv_bias: bool = False
    gated_mlp: bool = True  # gate/up/down (SwiGLU) vs up/down (GPT-2 style)
    num_experts: int = 1  # MoE: experts held in memory per layer
    experts_per_token: int = 1  # MoE: experts each token runs through
    source: str = "preset"  # "preset", or where the config.json came from

    # ------------------------------------------------------------------ shapes
    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden_size // self.num_heads

    @property
    def q_dim(self) -> int:
        return self.num_heads * self.head_size

    @property
    def kv_dim(self) -> int:
        """Width of the key (and of the value) projection: kv heads x head size."""
        return self.num_kv_heads * self.head_size

    @property
    def mlp_matrices(self) -> int:
        return 3 if self.gated_mlp else 2

    def linear_modules(self) -> dict[str, tuple[int, int, int]]:
        """Each decoder Linear module: name -> (in features, out features, copies per layer)."""
        h, i = self.hidden_size, self.intermediate_size
        modules = {
            "q_proj": (h, self.q_dim, 1),
            "k_proj": (h, self.kv_dim, 1),
            "v_proj": (h, self.kv_dim, 1),
            "o_proj": (self.q_dim, h, 1),
            "up_proj": (h, i, self.num_experts),
            "down_proj": (i, h, self.num_experts),
        }
        if self.gated_mlp:
            modules["gate_proj"] = (h, i, self.num_experts)
        return modules

    # ------------------------------------------------------------- parameters
    @property
    def n_linear(self) -> int:
        """Parameters in the decoder Linear layers (what 4-bit quantisation shrinks)."""
        per_layer = sum(fan_in * fan_out * copies for fan_in, fan_out, copies in self.linear_modules().values())
        if self.qkv_bias:
            per_layer += self.q_dim + 2 * self.kv_dim
        return self.num_layers * per_layer

    @property
    def n_rest(self) -> int:
        """Embeddings, the LM head (unless tied) and the norms: kept in 16-bit even under QLoRA."""
        embed = self.vocab_size * self.hidden_size
        head = 0 if self.tie_embeddings else embed
        norms = (2 * self.num_layers + 1) * self.hidden_size
        return embed + head + norms

    @property
    def n_params(self) -> int:
        return self.n_linear + self.n_rest

    def describe(self) -> str:
        moe = f", {self.num_experts} experts (top-{self.experts_per_token})" if self.num_experts > 1 else ""
        return (
            f"{self.name}: {format_params(self.n_params)} params, hidden {self.hidden_size}, "
            f"intermediate {self.intermediate_size}, {self.num_layers} layers, "
            f"{self.num_heads} heads / {self.num_kv_heads} kv, vocab {self.vocab_size}"
            f"{', tied embeddings' if self.tie_embeddings else ''}{moe}"
        )


def format_params(n: int) -> str:
    """A parameter count as people say it: 8.03B, 494M, 2.1M."""
    if n >= 1e9:
        return f"{n / 1e9:.2f}B"
    return f"{n / 1e6:.0f}M" if n >= 1e7 else f"{n / 1e6:.2f}M"


def _arch(name: str, h: int, i: int, layers: int, heads: int, kv: int, vocab: int, tied: bool, **kw) -> Architecture:
    return Architecture(name, h, i, layers, heads, kv, vocab, tied, **kw)


# Real config.json dimensions of the model each size label stands for.
PRESETS: dict[str, Architecture] = {
    "0.5B": _arch("Qwen2.5-0.5B", 896, 4864, 24, 14, 2, 151936, True, qkv_bias=True),
    "1B": _arch("Llama-3.2-1B", 2048, 8192, 16, 32, 8, 128256, True),
    "3B": _arch("Llama-3.2-3B", 3072, 8192, 28, 24, 8, 128256, True),
    "7B": _arch("Llama-2-7B", 4096, 11008, 32, 32, 32, 32000, False),
    "8B": _arch("Llama-3.1-8B", 4096, 14336, 32, 32, 8, 128256, False),
    "13B": _arch("Llama-2-13B", 5120, 13824, 40, 40, 40, 32000, False),
    "34B": _arch("CodeLlama-34B", 8192, 22016, 48, 64, 8, 32000, False),
    "70B": _arch("Llama-3.1-70B", 8192, 28672, 80, 64, 8, 128256, False),
}

# Further named architectures: reachable by name, used by the published reference points.
NAMED: dict[str, Architecture] = {
    "mistral-7b": _arch("Mistral-7B-v0.3", 4096, 14336, 32, 32, 8, 32768, False),
    "llama-65b": _arch("LLaMA-65B", 8192, 22016, 80, 64, 64, 32000, False),
}
for _arch_obj in PRESETS.values():
    NAMED[_arch_obj.name.lower()] = _arch_obj

PRESET_SIZES: tuple[str, ...] = tuple(PRESETS)


def find_preset(name: str) -> Architecture | None:
    """The preset for a size label ("8B", "8b") or a model name ("Llama-3.1-8B"), else None."""
    key = name.strip()
    for size, arch in PRESETS.items():
        if key.lower() == size.lower():
            return arch
    return NAMED.get(key.lower())

CUSTOM = "custom"  # the model choice beside PRESET_SIZES: a local path or a Hub id

# The Hub id each size preset stands for (what "use this plan" puts in RunConfig.model).
PRESET_HUB_IDS: dict[str, str] = {
    "0.5B": "Qwen/Qwen2.5-0.5B",
    "1B": "meta-llama/Llama-3.2-1B",
    "3B": "meta-llama/Llama-3.2-3B",
    "7B": "meta-llama/Llama-2-7b-hf",
    "8B": "meta-llama/Llama-3.1-8B",
    "13B": "meta-llama/Llama-2-13b-hf",
    "34B": "codellama/CodeLlama-34b-hf",
    "70B": "meta-llama/Llama-3.1-70B",
}
