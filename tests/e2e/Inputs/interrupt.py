#!/usr/bin/env python3
"""Runs a trainer, sends it SIGINT as soon as it reports its first epoch,
prints its output and `exit status N`."""
import signal, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
lines = []
for line in p.stdout:
    lines.append(line)
    if line.startswith("epoch 1:"):
        p.send_signal(signal.SIGINT)
        break
rest, _ = p.communicate(timeout=120)
print("".join(lines) + rest)
print(f"exit status {p.returncode}")
