#!/usr/bin/env python3
"""Reads snnc --emit=llvm output and prints, for each step wrapper
(snnc_*), its allocas outside the entry block (dynamic allocas: FastISel
gives up on them and the stack grows with each launch). Exit 1 if any."""
import re, sys
text = open(sys.argv[1]).read()
bad = 0
for m in re.finditer(r'define [^@]*@(snnc_[A-Za-z0-9_]+)\(.*?\n\}', text, re.S):
    blocks = re.split(r'\n(?=[0-9A-Za-z_.]+:)', m.group(0))
    outside = sum(b.count(' = alloca ') for b in blocks[1:])
    print(f"{m.group(1)}: {m.group(0).count(' = alloca ')} allocas, {outside} outside the entry block")
    bad += outside
sys.exit(1 if bad else 0)
