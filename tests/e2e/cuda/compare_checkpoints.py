#!/usr/bin/env python3
"""Compares two trainer checkpoints taken after the same training steps on
two devices: the AdamW first moments m (after one step, m = (1 - beta1) g:
the gradient itself) element by element, and the parameters.

  compare_checkpoints.py A B [--rtol R] [--atol-frac F] [--exact]

An element of m agrees when |a - b| <= atol + rtol |b|, atol = F max|b| of
that tensor. Parameters after one AdamW step move by lr sign(g) where g is
not zero, so a gradient within rounding of zero may move the other way: at
most 0.1% of the parameters may differ by more than 1e-6. Exit 1 on any
other difference; prints one line per tensor. --exact: every moment and
parameter must be equal to the bit (two runs of one deterministic setup)."""
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    # magic (8 bytes), fingerprint, epoch, batch, step, seed, loss sum (f64),
    # correct, seen, history (count + records of i64 + 6 f64)
    off = 8
    off += 8 * 8
    (hist,) = struct.unpack_from("<Q", data, off)
    off += 8 + hist * 56
    (count,) = struct.unpack_from("<Q", data, off)
    off += 8
    tensors = []
    for _ in range(count):
        group = []
        for _ in range(3):
            (n,) = struct.unpack_from("<Q", data, off)
            off += 8
            group.append(struct.unpack_from("<%df" % n, data, off))
            off += 4 * n
        tensors.append(group)
    return tensors


def main():
    args = sys.argv[1:]
    rtol, atol_frac = 1e-3, 1e-4
    exact = "--exact" in args
    if exact:
        args.remove("--exact")
        rtol, atol_frac = 0.0, 0.0
    if "--rtol" in args:
        i = args.index("--rtol"); rtol = float(args[i + 1]); del args[i:i + 2]
    if "--atol-frac" in args:
        i = args.index("--atol-frac"); atol_frac = float(args[i + 1]); del args[i:i + 2]
    a, b = read(args[0]), read(args[1])
    if len(a) != len(b):
        print("different numbers of parameter tensors"); return 1
    ok = True
    for k, ((pa, ma, _), (pb, mb, _)) in enumerate(zip(a, b)):
        scale = max((abs(x) for x in mb), default=0.0)
        atol = atol_frac * scale
        bad = sum(1 for x, y in zip(ma, mb) if abs(x - y) > atol + rtol * abs(y))
        worst = max((abs(x - y) / (atol + rtol * abs(y)) if atol + rtol * abs(y) > 0 else 0.0
                     for x, y in zip(ma, mb)), default=0.0)
        moved = sum(1 for x, y in zip(pa, pb) if abs(x - y) > 1e-6)
        if exact:
            moved = sum(1 for x, y in zip(pa, pb) if x != y)
        line_ok = bad == 0 and moved <= (0 if exact else max(1, len(pa) // 1000))
        ok = ok and line_ok
        if exact:
            worst = max((abs(x - y) for x, y in zip(ma, mb)), default=0.0)
            print("tensor %d: %d values, gradient (m) differing %d (largest |a - b| %.3g), "
                  "parameters differing %d" % (k, len(ma), bad, worst, moved))
            continue
        print("tensor %d: %d values, gradient (m) mismatches %d (worst %.2f of the "
              "tolerance, max|m| %.3g), parameters differing %d" % (k, len(ma), bad, worst, scale, moved))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
