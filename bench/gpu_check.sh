#!/usr/bin/env bash
# Run bench/gpu_train.py on the lent GPU machine (offline; its image has torch, transformers, peft,
# accelerate, pyarrow, but no trl, bitsandbytes or datasets).
#
# 1. Here, on the development box, with the project's .venv set up (make setup):
#        ../shared/tools/gpu-wheels.sh          # writes .whl/ (~25 MB: the .venv's versions of the stack)
#    transformers 5.25 also needs huggingface_hub >= 2.4 and kernels, newer than the GPU image's: add them
#    (~9 MB) at the .venv's versions:
#        python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#          --platform manylinux_2_17_x86_64 --platform any -d .whl $(.venv/bin/pip list --format=freeze | \
#          grep -iE '^(huggingface[-_]hub|httpx2|httpcore2|tokenizers|safetensors|hf[-_]xet|h11|anyio|sniffio|truststore|kernels|tomlkit)==')
# 2. The device call (the `run` tool), from the repository root, with .whl carried:
#        run(command="bash bench/gpu_check.sh", carry=[".whl"], timeout_s=600)
#    Extra arguments go to the bench, e.g. `bash bench/gpu_check.sh --methods lora --steps 10`, or
#    `--shape llama-3.2-1b --methods full` (fp32 master weights), `--methods full --precision bf16` (8B pure bf16;
#    it writes the 16 GB model at its end, so the disk needs ~35 GB free: the start clears earlier runs' leftovers).
# The full log and the JSON line are also written to $OUT (fetched back by the run tool).
set -uo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 3
    export PYTHONPATH="/tmp/site:$PWD"
else
    echo "no .whl/ here: run ../shared/tools/gpu-wheels.sh on the development box and carry .whl" >&2
    export PYTHONPATH="$PWD"
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export FTUI_HOME=/tmp/ftui-home FTUI_CACHE_DIR=/tmp/ftui-cache
OUT="${OUT:-/tmp/gpu-check-out}"
# a run cut short by a timeout leaves its work dir (models of up to 16 GB each) on the machine's 64 GB disk
rm -rf /tmp/ftui-gpu-train-*
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, transformers, trl, peft, datasets, bitsandbytes as b; \
print('torch', torch.__version__, 'transformers', transformers.__version__, 'trl', trl.__version__, \
'peft', peft.__version__, 'bitsandbytes', b.__version__, 'cuda', torch.cuda.is_available())" || exit 4
# the bench's own budget is 8 minutes on one H200; stop it short of the device call's limit
timeout 570 python3 bench/gpu_train.py "$@" 2>&1 | tee "$OUT/gpu_train.log"
status=${PIPESTATUS[0]}
tail -n 1 "$OUT/gpu_train.log" > "$OUT/gpu_train.json"
exit "$status"
