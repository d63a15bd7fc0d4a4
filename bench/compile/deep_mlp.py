#!/usr/bin/env python3
"""Writes a deep MLP in snnc's textual ONNX: LAYERS hidden layers of WIDTH
LIF neurons (T 5, batch 8), for compile-time benchmarks.

  deep_mlp.py LAYERS [WIDTH] > model.onnxtxt
"""
import sys

layers = int(sys.argv[1])
width = int(sys.argv[2]) if len(sys.argv) > 2 else 16
T, B = 5, 8
weights = [f"float[{width}, 16] w0"] + [
    f"float[{width}, {width}] w{i}" for i in range(1, layers)] + [
    f"float[10, {width}] wout"]
print("<\n  ir_version: 8,\n  opset_import: [\"\" : 13, \"ai.snn\" : 1],\n"
      "  metadata_props: [\"snn.dataset\": \"synthetic\", \"snn.epochs\": \"1\"]\n>")
print(f"deep_mlp (float[{B}, 16] x, int32[{B}] labels, {', '.join(weights)}) "
      f"=> (float loss, float[{T * B}, 10] spikes)\n{{")
print(f"  a0 = ai.snn.EncodeCurrent <T = {T}, tau_s = 2.0> (x)")
prev = "a0"
for i in range(layers):
    print(f"  c{i} = Gemm <transB = 1> ({prev}, w{i})")
    print(f"  u{i}, s{i} = ai.snn.LIF (c{i})")
    print(f"  h{i} = ai.snn.PSC (s{i})")
    prev = f"h{i}"
print(f"  cout = Gemm <transB = 1> ({prev}, wout)")
print("  uout, spikes = ai.snn.LIF (cout)")
print("  aout = ai.snn.PSC (spikes)")
print(f"  d = ai.snn.TargetSpikes <T = {T}, num_classes = 10> (labels)")
print("  loss = ai.snn.VanRossumLoss (aout, d)\n}")
