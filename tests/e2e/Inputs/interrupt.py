#!/usr/bin/env python3
"""Runs a trainer, sends it SIGINT as soon as it reports its first epoch,
prints its output and `exit status N`. Before the signal it prints how many
of the trainer's threads have SIGINT unblocked: it must be none (main.cpp
blocks it everywhere and takes it with sigwait; a library thread started
before main, e.g. OpenBLAS's pool, would let the kernel deliver it there
and kill the trainer without its checkpoint)."""
import glob, signal, subprocess, sys

def unblocked(pid):
    n = 0
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            # The sigwait thread: the kernel unblocks what it waits for.
            if "sigtimedwait" in open(f"{task}/wchan").read():
                continue
            for line in open(f"{task}/status"):
                if line.startswith("SigBlk:"):
                    n += not (int(line.split()[1], 16) >> (signal.SIGINT - 1)) & 1
        except OSError:
            pass  # the thread ended
    return n

p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
lines = []
for line in p.stdout:
    lines.append(line)
    if line.startswith("epoch 1:"):
        lines.append(f"threads with SIGINT unblocked: {unblocked(p.pid)}\n")
        p.send_signal(signal.SIGINT)
        break
rest, _ = p.communicate(timeout=120)
print("".join(lines) + rest)
print(f"exit status {p.returncode}")
