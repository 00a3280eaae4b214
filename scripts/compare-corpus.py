#!/usr/bin/env python3
"""Compare two report corpora (internal/corpus/testdata/reports.jsonl.gz).

Usage: compare-corpus.py OLD NEW [--allow FIELD]...

Prints every difference between the reports of the same name: a field
only in one, or a field whose value differs (by its JSON path). Fields
named with --allow (top-level, or report.vcpus[].NAME as vcpus.NAME) may
be added; 'schema' may change. Exits 1 when anything else differs.
"""
import gzip
import json
import sys


def load(path):
    with gzip.open(path, "rt") as f:
        return {r["name"]: r for r in map(json.loads, f)}


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append(("added", p))
            elif k not in b:
                out.append(("removed", p))
            else:
                diff(a[k], b[k], p, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(("changed", path))


def main():
    args = sys.argv[1:]
    allow = set()
    while "--allow" in args:
        i = args.index("--allow")
        allow.add(args[i + 1])
        del args[i:i + 2]
    old, new = load(args[0]), load(args[1])
    bad = 0
    if set(old) != set(new):
        print("report names differ:", sorted(set(old) ^ set(new)))
        bad = 1
    seen = {}
    for name in sorted(set(old) & set(new)):
        out = []
        diff(old[name], new[name], "", out)
        for kind, p in out:
            # report.vcpus[0].x -> vcpus.x
            g = p.replace("report.", "", 1)
            if "[" in g:
                g = g.split("[")[0] + "." + g.split("].")[-1] if "]." in g else g.split("[")[0]
            ok = (kind == "changed" and g == "schema") or (kind == "added" and g in allow)
            key = (kind, g, ok)
            seen[key] = seen.get(key, 0) + 1
            if not ok:
                bad = 1
    for (kind, g, ok), n in sorted(seen.items()):
        print(f"{'ok ' if ok else 'BAD'} {kind:8} {g}: {n} reports")
    print(f"{len(new)} reports compared:", "only the allowed changes" if not bad else "unexpected differences")
    return bad


sys.exit(main())
