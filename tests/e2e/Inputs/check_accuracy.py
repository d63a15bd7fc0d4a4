#!/usr/bin/env python3
"""Fails unless the last epoch's test accuracy in a metrics file is >= MIN."""
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
acc = lines[-1]["test_accuracy"]
print(f"final test accuracy {acc:.4f} (needs >= {sys.argv[2]})")
sys.exit(0 if acc >= float(sys.argv[2]) else 1)
