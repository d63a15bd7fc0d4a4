#!/usr/bin/env python3
"""Fails unless two metrics files hold the same per-epoch losses and accuracies."""
import json, sys
def load(p):
    return [(d["epoch"], d["train_loss"], d["train_accuracy"], d["test_accuracy"])
            for d in map(json.loads, filter(str.strip, open(p)))]
a, b = load(sys.argv[1]), load(sys.argv[2])
print("uninterrupted:", a)
print("resumed:      ", b)
sys.exit(0 if a == b and len(a) > 0 else 1)
