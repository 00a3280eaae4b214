#!/usr/bin/env bash
# The built-in example until `probesim demo` (issue 5) replaces it: run real
# static programs of both architectures under probesim, show that they behave
# as they do natively, and show what the run report records.
set -euo pipefail
cd "$(dirname "$0")/.."
P=bin/probesim
F=fixtures/bin
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for arch in x86_64 i386; do
  echo "== $arch: stdio (glibc, static) =="
  set +e
  $P run --json "$tmp/r.json" "$F/$arch/stdio" >"$tmp/emu.out" 2>"$tmp/emu.err"; emu=$?
  "$F/$arch/stdio" >"$tmp/nat.out" 2>"$tmp/nat.err"; nat=$?
  set -e
  if cmp -s "$tmp/emu.out" "$tmp/nat.out" && [ $emu = $nat ]; then
    echo "   stdout identical to the native run ($(wc -c <"$tmp/nat.out") bytes), exit status $emu both"
  else
    echo "   MISMATCH with the native run (status $emu vs $nat)"; diff "$tmp/nat.out" "$tmp/emu.out" | head
  fi
  python3 - "$tmp/r.json" <<'PY' 2>/dev/null || grep -E '"(cycles|instructions)"' "$tmp/r.json" | head -2
import json, sys
r = json.load(open(sys.argv[1]))
print(f"   {r['instructions']:,} instructions, {r['cycles']:,} cycles on profile {r['profile']}")
print("   syscalls: " + ", ".join(f"{k}x{v}" for k, v in sorted(r['syscalls'].items())))
PY
done

echo "== x86_64: nx (jumps into its non-executable stack) =="
set +e
$P run "$F/x86_64/nx"; echo "   exit status $? (128 + SIGSEGV)"
set -e
echo "== x86_64: stackgrow 2 MiB within the default 8 MiB RLIMIT_STACK, then 16 MiB with it =="
$P run "$F/x86_64/stackgrow"
set +e
$P run "$F/x86_64/stackgrow" 16384; echo "   exit status $?"
echo "== x86_64: threads (8 threads calling probed() 2000 times each) on 1 and 4 vCPUs =="
for cpus in 1 4; do
  $P run --cpus $cpus --seed 1 --json "$tmp/t.json" "$F/x86_64/threads" 8 2000 | grep calls=
  python3 - "$tmp/t.json" <<'PY' 2>/dev/null || true
import json, sys
r = json.load(open(sys.argv[1]))
print(f"   {r['cpus']} vCPU(s): {r['cycles']:,} cycles of simulated time; per vCPU (instructions, idle cycles, context switches):")
print("   " + "  ".join(f"cpu{v['id']}={v['instructions']:,}/{v['idle_cycles']:,}/{v['context_switches']}" for v in r['vcpus']))
PY
done
echo "== the seed's question: a probe on probed(), 4 threads x 1000 calls =="
for cpus in 1 4; do
  for s in inline ssol-stack; do
    printf '   %d vCPU(s), %-10s ' "$cpus" "$s:"
    $P run --cpus $cpus --probe probed --strategy $s "$F/x86_64/threads" 4 1000 2>&1 >/dev/null | sed -n 's/^probesim: probe [^:]*: //p'
  done
done
echo "   inline puts the original byte back while it single-steps: on SMP other vCPUs run through the probe."
