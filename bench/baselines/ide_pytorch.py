#!/usr/bin/env python3
"""IDE training step in eager PyTorch, in the style of the official code.

Written from ../shared/IDE_SPEC.md (the official IDE-FSNN code's semantics):
the single-layer feedback module of F400 -- input connection Linear + BN1d +
dropout, feedback Linear with the spectral-norm reparametrisation (one
power iteration per forward), IF or LIF neurons with reset by subtraction,
simulated without a tape; the equilibrium map f(a) = clamp01((m_s (W a) +
c) / V) taken with autograd at a_T; beta = g + J^T beta solved by Broyden
(section 5.1: 30 steps, 27 pairs, eps 2e-10 sqrt(B N), lowest-residual
iterate, the denominator guard), J^T x by autograd; the parameters' gradient
as one backward of f with cotangent beta; readout + cross-entropy; SGD with
momentum 0.9 and coupled weight decay 5e-4.

  ide_pytorch.py [--steps N] [--threads K] [--device cpu|cuda] [--if]
      F400 on Fashion-MNIST (Debian's dataset-fashion-mnist), batch 128,
      T 5; prints `f400 pytorch <ms> ms/step (<samples/s> samples/s),
      Broyden <mean> steps`.
  ide_pytorch.py --golden FILE
      one step of a toy module in float64 with an exact solve (and
      Broyden's) written to FILE for tests/unit/IDEReferenceTest.cpp.
"""
import argparse, gzip, os, struct, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class SpectralLinear(nn.Module):
    """W_eff = clamp(g, -1, 1) W / sigma, sigma = u^T W v after one power
    iteration per forward (u, v buffers, no gradient)."""

    def __init__(self, n, generator):
        super().__init__()
        w = torch.rand(n, n, generator=generator) * 2 - 1
        w = w / w.norm(dim=1, keepdim=True)
        self.weight_w = nn.Parameter(w)
        u = F.normalize(torch.randn(n, generator=generator), dim=0)
        for _ in range(10):
            v = F.normalize(w.t() @ u, dim=0)
            u = F.normalize(w @ v, dim=0)
        self.weight_g = nn.Parameter(torch.tensor(float(u @ w @ v)))
        self.register_buffer("u", F.normalize(torch.randn(n, generator=generator), dim=0))
        self.register_buffer("v", F.normalize(torch.randn(n, generator=generator), dim=0))

    def effective(self):
        with torch.no_grad():
            self.v.copy_(F.normalize(self.weight_w.t() @ self.u, dim=0, eps=1e-12))
            self.u.copy_(F.normalize(self.weight_w @ self.v, dim=0, eps=1e-12))
        sigma = self.u @ self.weight_w @ self.v
        return self.weight_g.clamp(-1, 1) * self.weight_w / sigma


class F400(nn.Module):
    def __init__(self, d=784, n=400, classes=10, vth=2.0, leak=0.95, T=5,
                 dropout=0.2, seed=1):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.fc = nn.Linear(d, n)
        with torch.no_grad():
            w = torch.rand(n, d, generator=gen) * 2 - 1
            self.fc.weight.copy_(w / w.norm(dim=1, keepdim=True))
            self.fc.bias.zero_()
        self.bn = nn.BatchNorm1d(n, eps=1e-5, momentum=0.1)
        self.feedback = SpectralLinear(n, gen)
        self.readout = nn.Linear(n, classes)
        self.vth, self.leak, self.T, self.p = vth, leak, T, dropout

    def masks(self, b, n, device):
        keep = 1 - self.p
        return [torch.bernoulli(torch.full((b, n), keep, device=device)) / keep
                for _ in range(2)]

    def current(self, x, mx):
        return mx * self.bn(self.fc(x))

    def simulate(self, c, w, ms):
        """Section 2, no tape: IF (leak 1) or LIF (leak after reset)."""
        lam = self.leak if 0 < self.leak < 1 else 1.0
        u = torch.zeros_like(c)
        s = torch.zeros_like(c)
        a = torch.zeros_like(c)
        for t in range(self.T):
            u = u + c + (ms * (s @ w.t()) if t > 0 else 0)
            s = (u >= self.vth).to(c.dtype)
            u = lam * (u - self.vth * s)
            a = lam * a + s
        return a / sum(lam ** k for k in range(self.T)), s

    def f(self, a, c, w, ms):
        return ((ms * (a @ w.t()) + c) / self.vth).clamp(0, 1)


def broyden(G, x0, threshold=30, eps_scale=2e-10):
    """Section 5.1 (DEQ/MDEQ's solver): batch-wide norms, 27 pairs, the
    lowest-residual iterate, no line search, the denominator guard."""
    B = x0.shape[0]
    x = x0.reshape(B, -1)
    n_el = x.numel()
    eps = eps_scale * (n_el ** 0.5)
    M = min(threshold, 27)
    Us = torch.zeros(B, x.shape[1], M, dtype=x.dtype, device=x.device)
    VTs = torch.zeros(B, M, x.shape[1], dtype=x.dtype, device=x.device)
    gx = G(x)
    norm0 = gx.norm()
    best, best_norm = x.clone(), norm0
    delta = -gx  # H = -I
    n = 0
    while gx.norm() >= eps and n < threshold:
        x1 = x + delta
        g1 = G(x1)
        dx, dg = delta, g1 - gx
        n += 1
        nrm = g1.norm()
        if nrm < best_norm:
            best, best_norm = x1.clone(), nrm
        if nrm < eps or nrm > 1e6 * norm0:
            break
        k = min(n - 1, M)
        U, VT = Us[:, :, :k], VTs[:, :k]
        # H^T dx = -dx + V (U^T dx);  H dg = -dg + U (V^T dg)
        vT = -dx + torch.einsum("bi,bik,bkj->bj", dx, U, VT) if k else -dx
        hdg = -dg + torch.einsum("bij,bj->bi", U, torch.einsum("bki,bi->bk", VT, dg)) if k else -dg
        denom = (vT * dg).sum(1, keepdim=True)
        ok = denom.abs() > 1e-30
        u = torch.where(ok, (dx - hdg) / torch.where(ok, denom, torch.ones_like(denom)),
                        torch.zeros_like(dx))
        vT = torch.where(ok, vT, torch.zeros_like(vT))
        slot = (n - 1) % M
        Us[:, :, slot] = torch.nan_to_num(u)
        VTs[:, slot] = torch.nan_to_num(vT)
        k = min(n, M)
        U, VT = Us[:, :, :k], VTs[:, :k]
        delta = g1 - torch.einsum("bij,bj->bi", U, torch.einsum("bki,bi->bk", VT, g1))
        x, gx = x1, g1
    return best.reshape(x0.shape), n, float(best_norm)


def exact_solve(f_a, a_leaf, g):
    """(I - J^T) beta = g per sample, J from autograd (testing)."""
    B, N = g.shape
    rows = []
    for i in range(N):
        e = torch.zeros_like(g)
        e[:, i] = 1
        rows.append(torch.autograd.grad(f_a, a_leaf, e, retain_graph=True)[0])
    # rows[i][b, j] = sum_k e_k J[b, k, j] = J[b, i, j]
    J = torch.stack(rows, dim=1)
    A = torch.eye(N, dtype=g.dtype).expand(B, N, N) - J.transpose(1, 2)
    return torch.linalg.solve(A, g.unsqueeze(2)).squeeze(2)


def train_step(model, x, y, masks=None, solver="broyden"):
    """One IDE step; returns loss, solver steps, and the tensors of the step."""
    b, n = x.shape[0], model.fc.out_features
    mx, ms = masks if masks is not None else model.masks(b, n, x.device)
    w = model.feedback.effective()
    # The simulation's current (BN call 1: batch statistics, running stats).
    with torch.no_grad():
        c0 = model.current(x, mx)
        a, _ = model.simulate(c0, w, ms)
    a_leaf = a.clone().requires_grad_()
    logits = model.readout(a_leaf)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    g = a_leaf.grad.detach()
    # f with a tape (BN call 2), the solver's J^T x by autograd on it.
    c = model.current(x, mx)
    a_in = a.clone().requires_grad_()
    f_a = model.f(a_in, c, w, ms)
    JT = lambda v: torch.autograd.grad(f_a, a_in, v, retain_graph=True)[0]
    if solver == "exact":
        beta, steps, res = exact_solve(f_a, a_in, g), 0, 0.0
    else:
        beta, steps, res = broyden(lambda v: JT(v) - v + g, torch.zeros_like(g))
    f_a.backward(beta)
    return loss.detach(), steps, dict(a=a, fa=f_a.detach(), c=c.detach(), w=w.detach(),
                                      g=g, beta=beta, logits=logits.detach())


def load_fashion(root="/usr/share/datasets/fashion-mnist"):
    def idx(name):
        for cand in (name, name + ".gz"):
            p = os.path.join(root, cand)
            if os.path.exists(p):
                data = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
                dims = struct.unpack(">I", data[:4])[0] & 0xFF
                shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
                return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)
        raise SystemExit("bench: Fashion-MNIST missing in " + root)
    x = idx("train-images-idx3-ubyte").float().div(255).sub(0.1307).div(0.3081)
    return x.reshape(x.shape[0], -1), idx("train-labels-idx1-ubyte").long()


def golden(path):
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(3)
    B, D, N, C, T = 4, 5, 6, 3, 5
    model = F400(d=D, n=N, classes=C, T=T, seed=5)
    with torch.no_grad():
        model.bn.weight.uniform_(0.7, 1.3)
        model.bn.bias.uniform_(0.5, 1.5)
        model.feedback.weight_g.fill_(0.8)
        model.readout.weight.uniform_(-1, 1)
    x = torch.rand(B, D) * 2 - 1
    y = torch.randint(0, C, (B,))
    masks = model.masks(B, N, "cpu")
    u0, v0 = model.feedback.u.clone(), model.feedback.v.clone()
    params0 = {k: v.detach().clone() for k, v in model.named_parameters()}
    out = {}
    for solver in ("exact", "broyden"):
        m = F400(d=D, n=N, classes=C, T=T, seed=5)
        m.load_state_dict(model.state_dict())
        loss, steps, t = train_step(m, x, y, masks, solver)
        out[solver] = (m, loss, steps, t)
    m, loss, steps, t = out["exact"]
    mb, lossb, stepsb, tb = out["broyden"]
    vals = {
        "shape": [B, D, N, C, T], "vth": [model.vth], "leak": [model.leak],
        "x": x, "y": y, "maskX": masks[0], "maskS": masks[1],
        "F": params0["fc.weight"], "bF": params0["fc.bias"],
        "gamma": params0["bn.weight"], "beta": params0["bn.bias"],
        "Wraw": params0["feedback.weight_w"], "g": params0["feedback.weight_g"],
        "Wo": params0["readout.weight"], "bo": params0["readout.bias"],
        "u0": u0, "v0": v0,
        "out_u": m.feedback.u, "out_v": m.feedback.v,
        "out_runMean": m.bn.running_mean, "out_runVar": m.bn.running_var,
        "out_c": t["c"], "out_Weff": t["w"], "out_a": t["a"], "out_fa": t["fa"],
        "out_logits": t["logits"], "out_loss": [float(loss)], "out_gradA": t["g"],
        "out_beta": t["beta"], "out_beta_broyden": tb["beta"],
        "out_broyden_steps": [stepsb],
        "grad_F": m.fc.weight.grad, "grad_bF": m.fc.bias.grad,
        "grad_gamma": m.bn.weight.grad, "grad_beta": m.bn.bias.grad,
        "grad_Wraw": m.feedback.weight_w.grad, "grad_g": m.feedback.weight_g.grad,
        "grad_Wo": m.readout.weight.grad, "grad_bo": m.readout.bias.grad,
    }
    with open(path, "w") as f:
        f.write("# IDE golden step: bench/baselines/ide_pytorch.py --golden "
                "(PyTorch %s, float64)\n" % torch.__version__)
        for k, v in vals.items():
            flat = torch.as_tensor(v, dtype=torch.float64).reshape(-1).tolist()
            f.write(k + " " + str(len(flat)) + " " + " ".join(repr(float(z)) for z in flat) + "\n")


def bench(args):
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    x, y = load_fashion()
    model = F400(leak=0.0 if args.integrate else 0.95).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    B = 128
    gen = torch.Generator().manual_seed(1)
    order = torch.randperm(x.shape[0], generator=gen)
    steps_total, times = 0, []
    for i in range(args.steps + 2):
        idx = order[(i * B) % (x.shape[0] - B):][:B]
        xb, yb = x[idx].to(dev), y[idx].to(dev)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad()
        _, steps, _ = train_step(model, xb, yb)
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i >= 2:  # two warm-up steps
            times.append(time.perf_counter() - t0)
            steps_total += steps
    ms = 1000 * sum(times) / len(times)
    print("f400 pytorch %.2f ms/step (%.0f samples/s), Broyden %.1f steps"
          % (ms, B * 1000 / ms, steps_total / len(times)))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--if", dest="integrate", action="store_true")
    ap.add_argument("--golden")
    a = ap.parse_args()
    if a.golden:
        golden(a.golden)
    else:
        bench(a)
