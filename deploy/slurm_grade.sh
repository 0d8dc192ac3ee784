#!/bin/bash
# A Slurm array job: one shard of the class per array task, then one merge.
#
#   sbatch --array=0-15 deploy/slurm_grade.sh a2_nade_made /shared/submissions/a2 /shared/grading/a2
#   # when all tasks are done (or: sbatch --dependency=afterok:<jobid> --wrap "..."):
#   .venv/bin/python -m autograder merge /shared/grading/a2/merged /shared/grading/a2/shard-*
#
# Run from the course folder (a checkout with `make setup` done) on a file system the nodes share.
# The array must be 0..N-1: the shard index is the task id and N the task count. bubblewrap must be
# installed on the nodes. For the container instead: apptainer exec docker://...:grader python -m autograder ...
#SBATCH --job-name=grade-course
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=02:00:00
#SBATCH --output=grade-%A_%a.log
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: sbatch --array=0-(N-1) $0 ASSIGNMENT SUBMISSIONS OUT" >&2
    exit 2
fi
A="$1" SUBMISSIONS="$2" OUT="$3"
I="${SLURM_ARRAY_TASK_ID:?run this as an array job: sbatch --array=0-(N-1)}"
N="${SLURM_ARRAY_TASK_COUNT:?run this as an array job}"
cd "${COURSE_ROOT:-${SLURM_SUBMIT_DIR:-.}}"
export OMP_NUM_THREADS=1
mkdir -p "$OUT/shard-$I"
exec .venv/bin/python -m autograder grade "$A" "$SUBMISSIONS" --shard "$I/$N" --out "$OUT/shard-$I" \
    --gradebook "$OUT/shard-$I/gradebook.db" --workers "${SLURM_CPUS_PER_TASK:-1}" --quiet
