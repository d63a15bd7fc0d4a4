#!/usr/bin/env python3
"""NIR graphs for snnc's tests, written and read with NIR's own package, and
an independent reference simulator of NIR's semantics (shares nothing with
snnc: nir.read, then plain numpy).

  nir_reference.py gen KIND OUT.nir      write a test graph with nir.write
  nir_reference.py same A.nir DT_A B.nir DT_B DATA --T T --batch B
      the same linear weights and biases and the same simulated spikes
  nir_reference.py check GRAPH.nir DATA SPIKES --dt DT --T T --batch B
      simulate GRAPH on the first B test images of DATA (idx, as
      make_dataset.py writes them) and compare with SPIKES (the raw float32
      [T, B, N] output spikes of `trainer --eval --eval-spikes`)

The simulation is forward Euler with step dt (NIR_NOTES.md): spikes are 0/1
per step, the current updated at step t is used at step t, a neuron spikes
on v > v_threshold and is set to v_reset, and every neuron starts at rest
(v = v_leak = v_reset, I = 0). Float64 here, float32 and another operation
order in snnc: a potential within rounding of the threshold can flip a spike
and change a sample's whole output (NA_SPEC section 7), so the check
requires at least 98% of the samples to have exactly the same output spike
train and reports the rest.
"""
import argparse, os, struct, sys

import numpy as np
import nir


def gen(kind, out):
    rng = np.random.default_rng(7)

    def affine(o, i, scale, bias=0.05):
        return nir.Affine(weight=(rng.normal(0, scale / np.sqrt(i), (o, i))).astype(np.float32),
                          bias=(rng.normal(0, bias, o)).astype(np.float32))

    def full(n, v):
        return np.full(n, v, dtype=np.float32)

    if kind == "cubalif":
        # r and w_in != 1, v_leak = v_reset != 0, biases behind the synapse.
        n = 32
        nodes = {
            "input": nir.Input(input_type={"input": np.array([784])}),
            "fc1": affine(n, 784, 6.0),
            "lif1": nir.CubaLIF(tau_syn=full(n, 2e-3), tau_mem=full(n, 4e-3), r=full(n, 2.0),
                                v_leak=full(n, 0.25), v_threshold=full(n, 1.25),
                                v_reset=full(n, 0.25), w_in=full(n, 1.5)),
            "fc2": affine(10, n, 6.0),
            "lif2": nir.CubaLIF(tau_syn=full(10, 2e-3), tau_mem=full(10, 4e-3), r=full(10, 2.0),
                                v_leak=full(10, 0.25), v_threshold=full(10, 1.25),
                                v_reset=full(10, 0.25), w_in=full(10, 1.5)),
            "output": nir.Output(output_type={"output": np.array([10])}),
        }
        edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
                 ("lif2", "output")]
    elif kind == "lif":
        # Per-neuron thresholds and r (folded into the weights' rows), an IF
        # layer and a Threshold layer.
        n = 32
        nodes = {
            "input": nir.Input(input_type={"input": np.array([784])}),
            "fc1": affine(n, 784, 4.0),
            "lif1": nir.LIF(tau=full(n, 5e-3), r=rng.uniform(0.5, 1.5, n).astype(np.float32),
                            v_leak=full(n, 0.0), v_threshold=rng.uniform(0.8, 1.2, n).astype(np.float32),
                            v_reset=full(n, 0.0)),
            "fc2": affine(n, n, 3.0),
            "if2": nir.IF(r=full(n, 1.0), v_threshold=full(n, 2.0e-3), v_reset=full(n, 0.0)),
            "fc3": affine(10, n, 3.0),
            "th3": nir.Threshold(threshold=full(10, 0.3)),
            "output": nir.Output(output_type={"output": np.array([10])}),
        }
        edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "if2"),
                 ("if2", "fc3"), ("fc3", "th3"), ("th3", "output")]
    elif kind == "conv":
        # Conv2d with stride and padding and a bias, CubaLIF, SumPool2d,
        # Flatten, Affine, LIF.
        w = rng.normal(0, 0.6, (4, 1, 5, 5)).astype(np.float32)
        nodes = {
            "input": nir.Input(input_type={"input": np.array([1, 28, 28])}),
            "conv": nir.Conv2d(input_shape=(28, 28), weight=w, stride=2, padding=1,
                               dilation=1, groups=1, bias=full(4, 0.1)),
            "lif1": nir.CubaLIF(tau_syn=full((4, 13, 13), 3e-3), tau_mem=full((4, 13, 13), 5e-3),
                                r=full((4, 13, 13), 5.0), v_leak=full((4, 13, 13), 0.0),
                                v_threshold=full((4, 13, 13), 1.0),
                                v_reset=full((4, 13, 13), 0.0), w_in=full((4, 13, 13), 1.0)),
            "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                  padding=np.array([0, 0])),
            "flat": nir.Flatten(input_type={"input": np.array([4, 6, 6])}, start_dim=0, end_dim=-1),
            "fc": affine(10, 144, 8.0),
            "lif2": nir.LIF(tau=full(10, 5e-3), r=full(10, 5.0), v_leak=full(10, 0.0),
                            v_threshold=full(10, 1.0), v_reset=full(10, 0.0)),
            "output": nir.Output(output_type={"output": np.array([10])}),
        }
        edges = [("input", "conv"), ("conv", "lif1"), ("lif1", "pool"), ("pool", "flat"),
                 ("flat", "fc"), ("fc", "lif2"), ("lif2", "output")]
    elif kind == "nested":
        # An acyclic nested NIRGraph (conv, CubaLIF, AvgPool2d inside),
        # a Scale, and nodes listed out of order.
        w = rng.normal(0, 0.8, (3, 1, 3, 3)).astype(np.float32)
        inner = nir.NIRGraph(
            nodes={
                "input": nir.Input(input_type={"input": np.array([1, 28, 28])}),
                "conv": nir.Conv2d(input_shape=(28, 28), weight=w, stride=1, padding="same",
                                   dilation=1, groups=1, bias=full(3, 0.0)),
                "lif": nir.CubaLIF(tau_syn=full((3, 28, 28), 2.0), tau_mem=full((3, 28, 28), 4.0),
                                   r=full((3, 28, 28), 4.0), v_leak=full((3, 28, 28), 0.0),
                                   v_threshold=full((3, 28, 28), 1.0),
                                   v_reset=full((3, 28, 28), 0.0), w_in=full((3, 28, 28), 1.0)),
                "pool": nir.AvgPool2d(kernel_size=np.array([4, 4]), stride=np.array([4, 4]),
                                      padding=np.array([0, 0])),
                "output": nir.Output(output_type={"output": np.array([3, 7, 7])}),
            },
            edges=[("pool", "output"), ("input", "conv"), ("lif", "pool"), ("conv", "lif")])
        nodes = {
            "output": nir.Output(output_type={"output": np.array([10])}),
            "lif2": nir.LIF(tau=full(10, 4.0), r=full(10, 4.0), v_leak=full(10, 0.0),
                            v_threshold=full(10, 1.0), v_reset=full(10, 0.0)),
            "fc": affine(10, 147, 30.0),
            "scale": nir.Scale(scale=full(147, 2.0)),
            "flat": nir.Flatten(input_type={"input": np.array([3, 7, 7])}, start_dim=0, end_dim=-1),
            "block": inner,
            "input": nir.Input(input_type={"input": np.array([1, 28, 28])}),
        }
        edges = [("scale", "fc"), ("block", "flat"), ("input", "block"), ("flat", "scale"),
                 ("fc", "lif2"), ("lif2", "output")]
    elif kind == "li":
        nodes = {
            "input": nir.Input(input_type={"input": np.array([784])}),
            "fc": affine(10, 784, 1.0),
            "readout": nir.LI(tau=full(10, 5e-3), r=full(10, 1.0), v_leak=full(10, 0.0)),
            "output": nir.Output(output_type={"output": np.array([10])}),
        }
        edges = [("input", "fc"), ("fc", "readout"), ("readout", "output")]
    elif kind == "tau-per-neuron":
        n = 10
        nodes = {
            "input": nir.Input(input_type={"input": np.array([784])}),
            "fc": affine(n, 784, 1.0),
            "lif": nir.LIF(tau=np.linspace(4e-3, 6e-3, n).astype(np.float32), r=full(n, 5.0),
                           v_leak=full(n, 0.0), v_threshold=full(n, 1.0), v_reset=full(n, 0.0)),
            "output": nir.Output(output_type={"output": np.array([n])}),
        }
        edges = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    elif kind == "reset-not-leak":
        n = 10
        nodes = {
            "input": nir.Input(input_type={"input": np.array([784])}),
            "fc": affine(n, 784, 1.0),
            "lif": nir.LIF(tau=full(n, 5e-3), r=full(n, 5.0), v_leak=full(n, 0.0),
                           v_threshold=full(n, 1.0), v_reset=full(n, -0.5)),
            "output": nir.Output(output_type={"output": np.array([n])}),
        }
        edges = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    else:
        sys.exit(f"unknown kind {kind}")
    nir.write(out, nir.NIRGraph(nodes=nodes, edges=edges))


def idx_images(data, batch):
    path = os.path.join(data, "t10k-images-idx3-ubyte")
    with open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        pixels = np.frombuffer(f.read(batch * rows * cols), dtype=np.uint8)
    return pixels.reshape(batch, rows * cols).astype(np.float64) / np.float32(255.0)


def chain(graph, prefix=""):
    """The nodes from the input on, nested graphs inlined (their own Input
    and Output are ports)."""
    nxt = {s: d for s, d in graph.edges}
    name = next(k for k, v in graph.nodes.items() if isinstance(v, nir.Input))
    order = []
    while name in nxt:
        name = nxt[name]
        node = graph.nodes[name]
        if isinstance(node, nir.NIRGraph):
            order += [(n, v) for n, v in chain(node, prefix + name + ".")
                      if not isinstance(v, (nir.Input, nir.Output))]
        else:
            order.append((prefix + name, node))
    return order


def conv2d(x, w, b, stride, pad):
    B, C, H, W = x.shape
    O, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    OH = (H + 2 * pad[0] - KH) // stride[0] + 1
    OW = (W + 2 * pad[1] - KW) // stride[1] + 1
    y = np.zeros((B, O, OH, OW))
    for oy in range(OH):
        for ox in range(OW):
            patch = xp[:, :, oy * stride[0]:oy * stride[0] + KH, ox * stride[1]:ox * stride[1] + KW]
            y[:, :, oy, ox] = np.einsum("bckl,ockl->bo", patch, w)
    return y + b.reshape(1, O, 1, 1)


def pair(v):
    v = np.atleast_1d(np.asarray(v)).astype(int)
    return (int(v[0]), int(v[-1]))


def simulate(graph, x, dt, T):
    nodes = chain(graph)
    state = {}
    out = []
    for t in range(T):
        y = x
        for name, n in nodes:
            if isinstance(n, nir.Output):
                break
            if isinstance(n, (nir.Affine, nir.Linear)):
                y = y.reshape(y.shape[0], -1) @ np.asarray(n.weight, np.float64).T
                if isinstance(n, nir.Affine):
                    y = y + np.asarray(n.bias, np.float64)
            elif isinstance(n, nir.Conv2d):
                w = np.asarray(n.weight, np.float64)
                pad = n.padding
                if isinstance(pad, str) or np.asarray(pad).dtype.kind in "US":
                    pad = (0, 0) if str(pad) == "valid" else (w.shape[2] // 2, w.shape[3] // 2)
                y = conv2d(y.reshape(y.shape[0], -1, *np.asarray(n.input_shape).astype(int)),
                           w, np.asarray(n.bias, np.float64), pair(n.stride), pair(pad))
            elif isinstance(n, nir.SumPool2d):
                k = pair(n.kernel_size)
                B, C, H, W = y.shape
                y = y[:, :, :H // k[0] * k[0], :W // k[1] * k[1]].reshape(
                    B, C, H // k[0], k[0], W // k[1], k[1]).sum(axis=(3, 5))
            elif isinstance(n, nir.AvgPool2d):
                k = pair(n.kernel_size)
                B, C, H, W = y.shape
                y = y[:, :, :H // k[0] * k[0], :W // k[1] * k[1]].reshape(
                    B, C, H // k[0], k[0], W // k[1], k[1]).mean(axis=(3, 5))
            elif isinstance(n, nir.Scale):
                y = y * np.asarray(n.scale, np.float64).reshape(-1)[0]
            elif isinstance(n, nir.Flatten):
                y = y.reshape(y.shape[0], -1)
            elif isinstance(n, (nir.CubaLIF, nir.LIF, nir.IF)):
                p = {k: np.asarray(getattr(n, k), np.float64) for k in
                     ("tau_syn", "tau_mem", "tau", "r", "w_in", "v_leak", "v_threshold", "v_reset")
                     if hasattr(n, k) and getattr(n, k) is not None}
                y = y.reshape(y.shape[0], *np.shape(p["v_threshold"])) if np.ndim(p["v_threshold"]) > 1 else y
                rest = p.get("v_reset", 0.0)
                if name not in state:
                    state[name] = {"v": np.zeros(y.shape) + rest, "i": np.zeros(y.shape)}
                s = state[name]
                if isinstance(n, nir.CubaLIF):
                    s["i"] = s["i"] + dt / p["tau_syn"] * (-s["i"] + p["w_in"] * y)
                    s["v"] = s["v"] + dt / p["tau_mem"] * (p["v_leak"] - s["v"] + p["r"] * s["i"])
                elif isinstance(n, nir.LIF):
                    s["v"] = s["v"] + dt / p["tau"] * (p["v_leak"] - s["v"] + p["r"] * y)
                else:
                    s["v"] = s["v"] + dt * p["r"] * y
                z = s["v"] > p["v_threshold"]
                s["v"] = np.where(z, rest, s["v"])
                y = z.astype(np.float64)
            elif isinstance(n, nir.Threshold):
                y = (y > np.asarray(n.threshold, np.float64)).astype(np.float64)
            else:
                sys.exit(f"the reference does not simulate {type(n).__name__}")
        out.append(y.reshape(y.shape[0], -1))
    return np.stack(out)  # [T, B, N]


def check(a):
    graph = nir.read(a.graph)
    x = idx_images(a.data, a.batch)
    want = simulate(graph, x, a.dt, a.T)
    got = np.fromfile(a.spikes, dtype=np.float32).reshape(want.shape)
    same = np.all(got == want, axis=(0, 2))
    spikes = int(want.sum())
    print(f"{a.graph}: {int(same.sum())} of {a.batch} samples with the same output "
          f"spike trains; {spikes} reference output spikes, {int(got.sum())} from snnc")
    if spikes == 0:
        sys.exit("the reference network is silent: the test would prove nothing")
    sys.exit(0 if same.mean() >= 0.98 else 1)


def same(a):
    """Two graphs (e.g. an original and snnc's export of it) hold the same
    linear weights and biases and, each simulated with its own dt, give the
    same output spikes."""
    ga, gb = nir.read(a.first), nir.read(a.second)
    la = [n for _, n in chain(ga) if isinstance(n, (nir.Affine, nir.Linear, nir.Conv2d))]
    lb = [n for _, n in chain(gb) if isinstance(n, (nir.Affine, nir.Linear, nir.Conv2d))]
    if len(la) != len(lb):
        sys.exit(f"{len(la)} linear ops against {len(lb)}")
    for x, y in zip(la, lb):
        if not np.array_equal(np.asarray(x.weight), np.asarray(y.weight)):
            sys.exit(f"weights differ: {type(x).__name__} vs {type(y).__name__}")
        bx = getattr(x, "bias", None)
        by = getattr(y, "bias", None)
        if (bx is None) != (by is None) or (bx is not None and not np.array_equal(bx, by)):
            sys.exit("biases differ")
    x = idx_images(a.data, a.batch)
    sa = simulate(ga, x, a.dt1, a.T)
    sb = simulate(gb, x, a.dt2, a.T)
    match = np.all(sa == sb, axis=(0, 2))
    print(f"{len(la)} linear ops with the same weights and biases; "
          f"{int(match.sum())} of {a.batch} samples with the same output spikes "
          f"({int(sa.sum())} spikes)")
    sys.exit(0 if match.mean() >= 0.98 and sa.sum() > 0 else 1)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("kind")
    g.add_argument("out")
    c = sub.add_parser("check")
    c.add_argument("graph")
    c.add_argument("data")
    c.add_argument("spikes")
    c.add_argument("--dt", type=float, required=True)
    c.add_argument("--T", type=int, required=True)
    c.add_argument("--batch", type=int, required=True)
    m = sub.add_parser("same")
    m.add_argument("first")
    m.add_argument("dt1", type=float)
    m.add_argument("second")
    m.add_argument("dt2", type=float)
    m.add_argument("data")
    m.add_argument("--T", type=int, required=True)
    m.add_argument("--batch", type=int, required=True)
    a = p.parse_args()
    if a.cmd == "gen":
        gen(a.kind, a.out)
    elif a.cmd == "same":
        same(a)
    else:
        check(a)


main()
