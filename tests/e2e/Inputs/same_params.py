#!/usr/bin/env python3
"""Fails unless two checkpoints hold the same position and the same
parameters and optimizer moments within a tolerance.

usage: same_params.py A B [--rtol R]

A tensor passes when max |a - b| <= R * max |a| (normwise: data-parallel
runs sum the ranks' gradients in another order than one process sums its
batch, so the values differ by float rounding, which the optimizer's
moments carry on)."""
import argparse, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "hostile"))
from fixtures import parse_checkpoint

ap = argparse.ArgumentParser()
ap.add_argument("a")
ap.add_argument("b")
ap.add_argument("--rtol", type=float, default=1e-5)
args = ap.parse_args()
a, b = (parse_checkpoint(open(p, "rb").read()) for p in (args.a, args.b))
for key in ("epoch", "batch", "step", "seen"):
    if a[key] != b[key]:
        sys.exit("%s differs: %r vs %r" % (key, a[key], b[key]))
worst, count = 0.0, 0
for i, (ta, tb) in enumerate(zip(a["tensors"], b["tensors"])):
    for which, va, vb in zip(("param", "m", "v"), ta, tb):
        if len(va) != len(vb):
            sys.exit("tensor %d %s: %d vs %d values" % (i, which, len(va), len(vb)))
        scale = max(max(map(abs, va)), 1e-30)
        err = max(abs(x - y) for x, y in zip(va, vb)) / scale
        worst = max(worst, err)
        count += len(va)
print("%d values, step %d: worst normwise relative difference %.3g (rtol %g)"
      % (count, a["step"], worst, args.rtol))
sys.exit(0 if worst <= args.rtol and count > 0 else 1)
