#!/bin/bash
# test-slurm.sh ROOT: run docs/sweep.md's Slurm job array on a one-node
# Slurm cluster started here, and compare the merged results with the
# unsharded sweep byte for byte (make test-slurm).
#
# Everything lives under ROOT/build/slurm: a munge key and socket, the
# slurm.conf, the controller's state and the daemon's spool, the logs,
# and the job's directory. munged, slurmctld and slurmd run as root on
# loopback (ports SLURM_TEST_PORT and the next, 16817 by default) and are
# stopped when the script ends, however it ends. The node claims 8 CPUs
# (config_overrides), so that the docs' --cpus-per-task=4 tasks run two at
# a time on a smaller machine.
set -euo pipefail

root=$(cd "${1:?usage: test-slurm.sh ROOT}" && pwd)
probesim=$root/bin/probesim
doc=$root/docs/sweep.md
dir=$root/build/slurm
port=${SLURM_TEST_PORT:-16817}
timeout=${SLURM_TEST_TIMEOUT:-600}

say() { echo "test-slurm: $*"; }
fail() { echo "test-slurm: $*" >&2; exit 1; }

[ -x "$probesim" ] || fail "$probesim is missing: make build"
for cmd in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$cmd" >/dev/null || fail "$cmd is missing: make test-slurm installs slurmctld, slurmd, slurm-client and munge"
done
[ "$(id -u)" = 0 ] || fail "run as root: the daemons run as root here"

rm -rf "$dir"
mkdir -p "$dir"/{munge,state,spool,log,job/logs,job/results}
chmod 700 "$dir" "$dir/munge"

pids=()
stop() {
  local status=$?
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
  done
  [ -f "$dir/munge/munged.pid" ] && kill "$(cat "$dir/munge/munged.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
  done
  if [ $status != 0 ]; then
    echo "test-slurm: failed; the logs are in $dir/log" >&2
    tail -n 20 "$dir"/log/*.log >&2 || true
  fi
  exit $status
}
trap stop EXIT

# munge: a fresh key, a socket of our own.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

cat > "$dir/slurm.conf" <<CONF
ClusterName=probesim
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=probesim Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

slurmctld -D -c >>"$dir/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost >>"$dir/log/slurmd.out" 2>&1 &
pids+=($!)
for ((i = 0; ; i++)); do
  state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  [ $i -lt 300 ] || fail "the node is not idle after 30 s (state: ${state:-none})"
  sleep 0.1
done
say "$(sinfo --version) cluster up: slurmctld, slurmd and munged on 127.0.0.1:$port"

# The job's files are docs/sweep.md's blocks marked file=NAME.
extract() {
  awk -v want="file=$1" '
    /^```/ && inside { exit }
    inside { print }
    /^```/ && index($0, want) { inside = 1 }
  ' "$doc"
}
job=$dir/job
for f in threads.yaml sweep.sbatch submit.sh; do
  extract "$f" >"$job/$f"
  [ -s "$job/$f" ] || fail "docs/sweep.md has no block file=$f"
done
# The config's program is ../fixtures/bin/x86_64/threads, as in a checkout.
ln -s "$root/fixtures" "$dir/fixtures"

cd "$job"
export PATH=$root/bin:$PATH
say "submitting docs/sweep.md's sweep.sbatch (4 array tasks) and the merge (submit.sh)"
bash -euo pipefail submit.sh
start=$SECONDS
while [ -n "$(squeue -h -o %i)" ]; do
  [ $((SECONDS - start)) -lt "$timeout" ] || fail "jobs still queued after ${timeout} s: $(squeue -h -o '%i %T %r')"
  sleep 0.5
done
for i in 1 2 3 4; do
  [ -f "results/shard-$i.csv" ] || fail "array task $i wrote no shard: $(cat "logs/sweep-$i.log" 2>/dev/null)"
done
[ -f results.csv ] || fail "the merge job wrote no results.csv: $(cat slurm-*.out 2>/dev/null)"
cat slurm-*.out

probesim sweep threads.yaml --out unsharded.csv --quiet
if ! cmp results.csv unsharded.csv; then
  diff results.csv unsharded.csv | head -20 >&2
  fail "the merged results differ from the unsharded sweep"
fi
rows=$(($(wc -l <results.csv) - 1))
say "ok: 4 shards run by Slurm and merged: results.csv ($rows rows) is byte-identical to the unsharded sweep of threads.yaml"
