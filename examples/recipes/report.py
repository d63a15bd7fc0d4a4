#!/usr/bin/env python3
"""One row of docs/results.md from a recipe's metrics file:
report.py NAME METRICS WALL_SECONDS TRAINER_OPTIONS"""
import json, os, platform, subprocess, sys, datetime

name, metrics, wall, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = [json.loads(l) for l in open(metrics) if l.strip()]
# A run with --validation reports the held-out training samples instead.
key = "test_accuracy" if "test_accuracy" in rows[0] else "validation_accuracy"
best = max(rows, key=lambda r: r[key])
final = rows[-1]
train_s = sum(r["seconds"] for r in rows)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                        capture_output=True, text=True).stdout.strip() or "?"
cpu = "?"
try:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
except OSError:
    pass
machine = f"{cpu}, {os.cpu_count()} cores"
opts = f" (`{extra}`)" if extra.strip() else ""
print(f"| {name}{opts} | {100 * best[key]:.2f}% (epoch {best['epoch']}) "
      f"| {100 * final[key]:.2f}% | {final['epoch']} "
      f"| {train_s / 60:.1f} min training, {wall / 60:.1f} min in all "
      f"| {commit} | {machine} | {datetime.date.today().isoformat()} |")
