#!/usr/bin/env python3
"""Fails unless two --log-steps outputs hold the same steps with losses
equal within a relative tolerance (default 1e-5: data-parallel runs sum in
another order than one process).

usage: same_step_losses.py A B [RTOL]"""
import re, sys

def load(p):
    return [(int(m.group(1)), float(m.group(2))) for m in
            re.finditer(r"^step (\d+) loss (\S+)$", open(p).read(), re.M)]

a, b = load(sys.argv[1]), load(sys.argv[2])
rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
worst = max((abs(x - y) / max(abs(x), 1e-30) for (_, x), (_, y) in zip(a, b)),
            default=float("inf"))
same = [s for s, _ in a] == [s for s, _ in b] and len(a) > 0
print("%d steps; worst relative loss difference %.3g (rtol %g)" % (len(a), worst, rtol))
sys.exit(0 if same and worst <= rtol else 1)
