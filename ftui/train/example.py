"""The commented example config printed by ``ftui train --example`` (every key, with why)."""

from __future__ import annotations

EXAMPLE_CONFIG = """\
# ftui run config. Train it with:  ftui train THIS.yaml   (or: ftui train --example | ftui train -)
# Any key can be overridden on the command line:  --set max_steps=20 --set learning_rate=1e-4

# --- what to train -------------------------------------------------------------------------
model: demo                 # a local model directory, a Hub id, or "demo" (tiny offline Llama)
train_path: sample_data/support_tickets_train.jsonl
eval_path: sample_data/support_tickets_test.jsonl   # null: hold out eval_fraction of train
eval_fraction: 0.1          # only used when eval_path is null
eval_max_rows: 1000         # eval on a seeded sample of at most this many rows (0 = all); evals stay fast
data_format: auto           # auto | chat | alpaca | sharegpt | prompt_completion | text
on_bad_rows: refuse         # rows that cannot train (lint errors, a prompt filling max_seq_len): refuse | skip (trains on the rest, lists them in run.json)
reasoning: keep             # assistant reasoning: keep (the chat template renders it, e.g. Qwen3's <think>) | drop
method: lora                # full | lora | qlora (CUDA + bitsandbytes) | openai | dpo | orpo | kto (preference pairs)

# --- preference methods (method: dpo | orpo | kto; train_path holds prompt/chosen/rejected pairs,
#     or prompt/completion/label rows for kto) ------------------------------------------------
adapter: lora               # lora | qlora: the adapter they train; DPO/KTO's reference is the base with it disabled
beta: 0.1                   # dpo/kto: how far the policy may move from the reference; orpo: odds-ratio weight
init_adapter: null          # a LoRA adapter dir to keep training (e.g. an SFT run's adapter/); it is then the reference

# --- LoRA ----------------------------------------------------------------------------------
lora_r: 32                  # the demo recipe (sample_data/README.md); 8-16 is typical for real models
lora_alpha: 64              # scale = alpha / r
lora_dropout: 0.05
target_modules: all-linear  # all-linear | attention | a list of module names, e.g. [q_proj, v_proj]

# --- QLoRA quantisation (method: qlora) ----------------------------------------------------
load_in_4bit_quant_type: nf4
double_quant: true
compute_dtype: bfloat16

# --- schedule ------------------------------------------------------------------------------
num_epochs: 8               # ~400 steps: the tiny random demo model needs them to learn the labels
max_steps: -1               # > 0 overrides num_epochs
learning_rate: 0.003        # the demo model is random and tiny; use 1e-4..2e-4 for real LoRA
lr_scheduler: linear
warmup_ratio: 0.03
weight_decay: 0.0
micro_batch_size: 8         # per device; effective batch = micro_batch_size * grad_accum * GPUs
grad_accum: 1
max_seq_len: 512            # tokens; longer examples are truncated
packing: false
gradient_checkpointing: auto  # off when the run fits the GPU with 15% to spare; true | false
optimizer: auto             # auto: fused AdamW on CUDA, adamw_torch on CPU | adamw_torch | adamw_8bit | paged_adamw_8bit (8-bit ones need CUDA)
precision: auto             # auto: bf16 where the GPU supports it, fp32 on CPU
attn_implementation: auto   # auto: flash_attention_2 when flash-attn is installed (CUDA, bf16/fp16), else sdpa | sdpa | eager | flash_attention_2
assistant_only_loss: true   # chat data: learn only the assistant turns

# --- eval and checkpoints ------------------------------------------------------------------
eval_steps: 50
save_steps: 100
save_total_limit: 2         # newest checkpoints kept, plus the best by eval loss when eval runs; 0 = all
early_stopping_patience: 0  # > 0: stop after this many evals without a better eval_loss
logging_steps: 1
merge_at_end: false         # also write merged/ (base + adapter) loadable with from_pretrained

# --- reproducibility and output ------------------------------------------------------------
seed: 42
output_dir: null            # null: a new directory under the runs dir (ftui runs lists them)
device: auto                # auto: the first GPU (cpu without one) | cuda:1 | cpu; accelerate launch uses them all

# --- OpenAI fine-tuning (method: openai); the key comes only from OPENAI_API_KEY ------------
openai_model: gpt-4o-mini-2024-07-18
openai_suffix: null
openai_base_url: null       # else OPENAI_BASE_URL, for compatible services
openai_batch_size: auto
openai_lr_multiplier: auto

# --- anything else SFTConfig accepts, passed through as is ---------------------------------
extra: {}
"""
