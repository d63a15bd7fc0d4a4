#!/usr/bin/env bash
# Data-parallel training started by Slurm's srun (docs/data-parallel.md), on
# a one-node Slurm that this script configures and starts in a temporary
# folder (its own ports, state and logs; /etc/slurm is not touched) and
# stops at the end. Needs root (slurmd) and Debian's slurm-wlm and munge,
# which it installs when they are missing. CI does not run it: it starts
# daemons. What it checks, as tests/e2e/mpi.test does with mpirun:
#   - srun --mpi=pmix -n 2 with batch 25 trains as one process with batch 50
#     (the losses of 15 steps and the parameters after them), NA and STBP;
#   - srun without PMIx stops every task with the trainer's one-line error;
#   - a killed task ends the step within a bounded time and the last
#     checkpoint resumes; SIGTERM to one task (what scancel and a time
#     limit send) writes the checkpoint and ends every task.
#   tests/e2e/slurm/check.sh [BUILD_DIR]        (default: build)
# Exits 0 with "SKIP: ..." when Slurm cannot be set up here; 1 on a failure.
set -uo pipefail
cd "$(dirname "$0")/../../.."
B=$(realpath "${1:-${SNNC_BUILD_DIR:-build}}")
In=tests/e2e/Inputs
[ "$(id -u)" = 0 ] || { echo "SKIP: slurmd needs root"; exit 0; }
if ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm slurmd slurmctld slurm-client munge >/dev/null 2>&1 ||
    { echo "SKIP: apt-get install slurm-wlm munge failed"; exit 0; }
fi
[ -f "$B/lib/libsnnmpi.so" ] || { echo "SKIP: $B/lib/libsnnmpi.so missing (no Open MPI at build time)"; exit 0; }
tmp=$(mktemp -d)
cleanup() {
  for p in slurmd slurmctld; do
    [ -f "$tmp/$p.pid" ] && kill "$(cat "$tmp/$p.pid")" 2>/dev/null
  done
  sleep 1
  rm -rf "$tmp"
}
trap cleanup EXIT
# munge: the key comes with the package; start the daemon if it is not up.
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -f /etc/munge/munge.key ] || mungekey -c >/dev/null 2>&1
  mkdir -p /run/munge && chown munge:munge /run/munge
  su -s /bin/sh munge -c /usr/sbin/munged 2>/dev/null || /usr/sbin/munged --force
  sleep 1
fi
host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" <<EOF
ClusterName=snnccheck
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=root
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmdSpoolDir=$tmp/spool
StateSaveLocation=$tmp/state
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=5
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF" ||
  { echo "SKIP: slurmctld/slurmd did not start"; exit 0; }
for _ in $(seq 30); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o %t 2>/dev/null | grep -q idle ||
  { echo "SKIP: the node did not come up ($(tail -1 "$tmp/slurmd.log"))"; exit 0; }
srun --mpi=list 2>&1 | grep -q pmix || { echo "SKIP: this Slurm has no PMIx plugin"; exit 0; }

fail=0
check() { # NAME COMMAND...: run, report, remember a failure
  local name=$1; shift
  if out=$("$@" 2>&1); then echo "ok: $name: $(tail -1 <<<"$out")"
  else echo "FAIL: $name"; echo "$out" | tail -5; fail=1; fi
}
python3 $In/make_dataset.py "$tmp/data" --train 600 --test 100
"$B/bin/snnc" $In/small_mlp.onnxtxt -o "$tmp/t50"
sed -e 's/\[50, 784\]/[25, 784]/; s/int32\[50\]/int32[25]/; s/\[250, 10\]/[125, 10]/' \
  $In/small_mlp.onnxtxt > "$tmp/mlp25.onnxtxt"
"$B/bin/snnc" "$tmp/mlp25.onnxtxt" -o "$tmp/t25"
run=(--data "$tmp/data" --threads 1 --seed 7 --max-steps 15 --log-steps)
for m in na stbp; do
  "$tmp/t50" "${run[@]}" --backward $m --checkpoint "$tmp/one-$m.ck" > "$tmp/one-$m.log" 2>/dev/null
  srun --mpi=pmix -n 2 "$tmp/t25" "${run[@]}" --backward $m \
    --checkpoint "$tmp/two-$m.ck" > "$tmp/two-$m.log" 2> "$tmp/two-$m.err"
  check "srun -n 2 ($m): the start line" grep "data parallel on 2 ranks (srun" "$tmp/two-$m.err"
  check "srun -n 2 ($m): losses" python3 $In/same_step_losses.py "$tmp/one-$m.log" "$tmp/two-$m.log"
  check "srun -n 2 ($m): parameters" python3 $In/same_params.py "$tmp/one-$m.ck" "$tmp/two-$m.ck"
done
nopmix() {
  ! srun -n 2 "$tmp/t25" --data "$tmp/data" --threads 1 --max-steps 1 2>&1 |
    grep -c "error: MPI_Init failed: srun started this task without PMIx" | grep -qx 2
}
check "srun without PMIx: one line per task, non-zero exit" bash -c "$(declare -f nopmix); tmp=$tmp; ! nopmix"
# Faults: a killed task, SIGTERM to one task (mpi_faults.py finds rank 1).
long=(--data "$tmp/data" --threads 1 --epochs 100000)
check "srun: a killed rank ends the step" bash -c \
  "python3 $In/mpi_faults.py KILL 60 -- srun --mpi=pmix -n 2 $tmp/t25 ${long[*]} --checkpoint $tmp/k.ck | grep -E '^rc [1-9]'"
check "srun: the checkpoint after a killed rank resumes" \
  "$tmp/t25" "${long[@]}" --checkpoint "$tmp/k.ck" --resume --max-steps 1
check "srun: SIGTERM to one rank writes the checkpoint and ends all" bash -c \
  "python3 $In/mpi_faults.py TERM 60 -- srun --mpi=pmix -n 2 $tmp/t25 ${long[*]} --checkpoint $tmp/t.ck | grep -A1 'checkpoint written to .*(SIGTERM)' | grep 'terminated (SIGTERM)'"
check "srun: resume after SIGTERM on 2 ranks" \
  srun --mpi=pmix -n 2 "$tmp/t25" "${long[@]}" --checkpoint "$tmp/t.ck" --resume --max-steps 1
[ $fail = 0 ] && echo "PASS: srun data parallel" || echo "FAILED: srun data parallel"
exit $fail
