#!/usr/bin/env bash
# The GPU check: one table, in at most 5 minutes on one GPU. Rows: P31 (the course's recipe through a
# DataLoader, --num-workers 0 and 4), P33 (fp32 and bf16, with and without --compile: s/epoch and final
# accuracy), P34 through `torchrun --nproc_per_node=1`; the header names the GPU and the data used.
#
#   pip install -r requirements.txt
#   bash benchmarks/gpu_check.sh --data-root DIR   # CIFAR-10 as JPEG folders: DIR/train/<class>/, DIR/test/<class>/
#   bash benchmarks/gpu_check.sh                   # torchvision's CIFAR-10, downloaded into data/ beforehand
#   bash benchmarks/gpu_check.sh --smoke           # on the CPU, synthetic data, quick runs: checks the script (< 1 min)
#
# Progress goes to stderr, the header and the table to stdout (`... > gpu_table.md` keeps just those).
# Rows that would run past the 5 minutes are listed as "not run"; the slowest (--compile) come last.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
BUDGET=285  # seconds for the rows; the checks and the table take the rest of the 5 minutes

smoke=0
data_root=""
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1 ;;
        --data-root) data_root=${2:?"--data-root needs a folder"}; shift ;;
        -h|--help) sed -n '2,12p' "$0" | cut -c3-; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$smoke" = 1 ]; then
    data=(--smoke)
    BUDGET=600  # the CPU has no 5-minute goal: this only checks that every row runs
elif [ -n "$data_root" ]; then
    if [ ! -d "$data_root/train" ] || [ ! -d "$data_root/test" ]; then
        echo "error: $data_root has no train/ and test/ folders (CIFAR-10 as DIR/train/<class>/*.jpg)" >&2
        exit 2
    fi
    data=(--dataset folder --data-root "$data_root")
elif [ -d data/cifar-10-batches-py ]; then
    data=(--dataset cifar10 --data-root data)
else
    echo "error: no CIFAR-10: pass --data-root DIR (JPEG folders), or download torchvision's CIFAR-10 into data/" >&2
    exit 2
fi

if [ "$smoke" = 0 ] && ! "$PYTHON" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    echo "error: torch sees no CUDA GPU here (bash $0 --smoke checks the script on the CPU)" >&2
    exit 1
fi

exec "$PYTHON" benchmarks/bench_train.py --suite gpu --budget "$BUDGET" "${data[@]}"
