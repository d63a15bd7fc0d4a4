#!/usr/bin/env python3
"""NA training step in eager PyTorch, in the style of the official NA code.

The baseline for bench/: the LIF + PSC layer is a torch.autograd.Function
whose forward loops over time steps with tensor ops and whose backward runs
the PSC-error scan (eq. 7) and the Simple Neighborhood Selection of
NA_SPEC.md section 3 with tensor ops over all neurons at once: for every
perturbation time p it flips the firing status and re-simulates the rest of
the window (O(T^2) tensor ops per layer). Dense and conv layers and AdamW are
PyTorch's own.

  python3 na_pytorch.py --model mnist_cnn|fashion_mlp|fashion_cnn [--steps N] [--device cpu|cuda]

prints one line: `<model> pytorch <ms per step> ms/step`.
"""
import argparse, time
import torch
import torch.nn as nn
import torch.nn.functional as F

TAU_M, THETA, CLIP = 5.0, 1.0, 10.0


class LIFPSC(torch.autograd.Function):
    """c [T, ...] -> a [T, ...]: LIF neurons and their PSC; NA backward."""

    @staticmethod
    def forward(ctx, c, tau_s):
        T = c.shape[0]
        dm, ds = 1 - 1 / TAU_M, 1 - 1 / tau_s
        r = torch.zeros_like(c[0])
        a = torch.zeros_like(c[0])
        us, ss, outs = [], [], []
        for t in range(T):
            u = dm * r + c[t]
            s = (u >= THETA).float()
            r = u * (1 - s)
            a = ds * a + s / tau_s
            us.append(u); ss.append(s); outs.append(a)
        u, s, out = torch.stack(us), torch.stack(ss), torch.stack(outs)
        ctx.save_for_backward(c, u, s, out)
        ctx.tau_s = tau_s
        return out

    @staticmethod
    def backward(ctx, g):
        c, u, s, a = ctx.saved_tensors
        tau_s = ctx.tau_s
        T = c.shape[0]
        dm, ds = 1 - 1 / TAU_M, 1 - 1 / tau_s
        # Eq. (7): e[t] = g[t] + ds e[t+1].
        e = torch.zeros_like(g)
        e[T - 1] = g[T - 1]
        for t in range(T - 2, -1, -1):
            e[t] = g[t] + ds * e[t + 1]
        delta = torch.zeros_like(g)
        for p in range(T):
            spiked = s[p] > 0.5
            sp = torch.where(spiked, torch.zeros_like(s[p]), torch.ones_like(s[p]))
            r = torch.where(spiked, torch.full_like(u[p], THETA), torch.zeros_like(u[p]))
            a_prev = a[p - 1] if p > 0 else torch.zeros_like(a[0])
            a_pert = ds * a_prev + sp / tau_s
            dL = e[p] * (a_pert - a[p])
            for t in range(p + 1, T):  # the chain effect
                up = dm * r + c[t]
                st = (up >= THETA).float()
                r = up * (1 - st)
                a_pert = ds * a_pert + st / tau_s
                dL = dL + e[t] * (a_pert - a[t])
            d = THETA - u[p]
            delta[p] = dL * torch.clamp(1 / d ** 3, -CLIP, CLIP)
        return delta, None


class Net(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        if model == "mnist_cnn":
            self.tau_s = 2.0
            self.conv1 = nn.Conv2d(1, 15, 5, bias=False)
            self.conv2 = nn.Conv2d(15, 40, 5, bias=False)
            self.fc1 = nn.Linear(640, 300, bias=False)
            self.fc2 = nn.Linear(300, 10, bias=False)
        elif model == "fashion_cnn":
            self.tau_s = 3.0
            self.conv1 = nn.Conv2d(1, 32, 5, bias=False)
            self.conv2 = nn.Conv2d(32, 64, 5, bias=False)
            self.fc1 = nn.Linear(1024, 1024, bias=False)
            self.fc2 = nn.Linear(1024, 10, bias=False)
        else:
            self.tau_s = 3.0
            self.fc1 = nn.Linear(784, 400, bias=False)
            self.fc2 = nn.Linear(400, 400, bias=False)
            self.fc3 = nn.Linear(400, 10, bias=False)

    def encode(self, x, T):
        ds = 1 - 1 / self.tau_s
        a, out = torch.zeros_like(x), []
        for _ in range(T):
            a = ds * a + x / self.tau_s
            out.append(a)
        return torch.stack(out)

    def per_step(self, layer, a):  # eager per-time-step synaptic ops
        return torch.stack([layer(a[t]) for t in range(a.shape[0])])

    def forward(self, x, T):
        a = self.encode(x, T)
        if self.model in ("mnist_cnn", "fashion_cnn"):
            a = LIFPSC.apply(self.per_step(self.conv1, a), self.tau_s)
            a = torch.stack([F.avg_pool2d(a[t], 2) * 4 * 1.1 for t in range(T)])
            a = LIFPSC.apply(self.per_step(self.conv2, a), self.tau_s)
            a = torch.stack([F.avg_pool2d(a[t], 2) * 4 * 1.1 for t in range(T)])
            a = a.flatten(2)
            a = LIFPSC.apply(self.per_step(self.fc1, a), self.tau_s)
            return LIFPSC.apply(self.per_step(self.fc2, a), self.tau_s)
        a = a.flatten(2)
        a = LIFPSC.apply(self.per_step(self.fc1, a), self.tau_s)
        a = LIFPSC.apply(self.per_step(self.fc2, a), self.tau_s)
        return LIFPSC.apply(self.per_step(self.fc3, a), self.tau_s)


def van_rossum(a, labels, tau_s, T):
    d = F.one_hot(labels, a.shape[-1]).float().unsqueeze(0).expand(T, -1, -1)
    ds = 1 - 1 / tau_s
    sd, target = torch.zeros_like(d[0]), []
    for t in range(T):
        sd = ds * sd + d[t] / tau_s
        target.append(sd)
    return 0.5 * ((a - torch.stack(target)) ** 2).sum()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="fashion_mlp", choices=["mnist_cnn", "fashion_mlp", "fashion_cnn"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--T", type=int, default=5)
    p.add_argument("--batch", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    batch = a.batch or (100 if a.model == "fashion_mlp" else 64)
    torch.manual_seed(0)
    net = Net(a.model).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=5e-4)
    shape = (batch, 784) if a.model == "fashion_mlp" else (batch, 1, 28, 28)
    x = torch.rand(shape, device=dev)
    labels = torch.randint(0, 10, (batch,), device=dev)

    def step():
        opt.zero_grad()
        loss = van_rossum(net(x, a.T), labels, net.tau_s, a.T)
        loss.backward()
        opt.step()

    step()  # warm-up
    if dev.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    ms = 1000 * (time.perf_counter() - start) / a.steps
    print(f"{a.model} pytorch {ms:.3f} ms/step")


if __name__ == "__main__":
    main()
