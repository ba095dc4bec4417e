#!/usr/bin/env python3
"""PyTorch copy of tomopick's `efficient` detector (batch norms folded: each block is a 3D
convolution with bias, then LeakyReLU(0.1)), timed per layer and whole on one pick tile, in plain
NCDHW layout and in oneDNN's channels_last_3d layout. A benchmark tool for issue 15, never a part
of tomopick: scripts/bench_conv_side_by_side.sh installs torch into a scratch venv and runs this
interleaved with `bench_conv_layers`, so both see the same machine.

    python scripts/bench_torch_efficient.py [D H W] [--repeats N] [--threads T]
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def block(cin, cout, k, s):
    return nn.Conv3d(cin, cout, k, stride=s, padding=k // 2, bias=True)


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.reduce, self.expand = block(c, c // 2, 1, 1), block(c // 2, c, 3, 1)

    def forward(self, x):
        return x + F.leaky_relu(self.expand(F.leaky_relu(self.reduce(x), 0.1)), 0.1)


class Stage(nn.Module):
    def __init__(self, cin, cout, n):
        super().__init__()
        self.entry = block(cin, cout, 3, 2)
        self.blocks = nn.ModuleList(Residual(cout) for _ in range(n))

    def forward(self, x):
        x = F.leaky_relu(self.entry(x), 0.1)
        for b in self.blocks:
            x = b(x)
        return x


class Efficient(nn.Module):
    """crates/tomopick-nn/src/detector.rs, Architecture::Efficient, 3 anchors × (5 + 13)."""

    def __init__(self, out=54):
        super().__init__()
        self.down = nn.ModuleList([Stage(1, 16, 1), Stage(16, 32, 2)])
        self.to_eighth = Stage(32, 64, 2)
        self.up_eighth = block(64, 32, 1, 1)
        self.neck_quarter = block(64, 32, 1, 1)
        self.head_conv = block(32, 32, 3, 1)
        self.head = nn.Conv3d(32, out, 1)

    def forward(self, x):
        for s in self.down:
            x = s(x)
        quarter = x
        eighth = self.to_eighth(quarter)
        up = F.interpolate(F.leaky_relu(self.up_eighth(eighth), 0.1), scale_factor=2, mode="nearest")
        q = F.leaky_relu(self.neck_quarter(torch.cat([up, quarter], 1)), 0.1)
        return self.head(F.leaky_relu(self.head_conv(q), 0.1))


def median(reps, f):
    f()
    t = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        t.append(time.perf_counter() - s)
    return sorted(t)[reps // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("size", nargs="*", type=int, default=[120, 192, 192])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    d, h, w = a.size
    n = 2048
    ma, mb = torch.randn(n, n), torch.randn(n, n)
    peak = 2 * n**3 / median(5, lambda: ma @ mb) / 1e9
    print(f"torch {torch.__version__}, {a.threads} threads; fp32 matmul ceiling (2048²): {peak:.0f} GFLOP/s")
    q, e, s8 = (d // 2, h // 2, w // 2), (d // 4, h // 4, w // 4), (d // 8, h // 8, w // 8)
    layers = [(1, 16, 3, 2, (d, h, w)), (16, 8, 1, 1, q), (8, 16, 3, 1, q), (16, 32, 3, 2, q),
              (32, 16, 1, 1, e), (16, 32, 3, 1, e), (32, 16, 1, 1, e), (16, 32, 3, 1, e),
              (32, 64, 3, 2, e), (64, 32, 1, 1, s8), (32, 64, 3, 1, s8), (64, 32, 1, 1, s8),
              (32, 64, 3, 1, s8), (64, 32, 1, 1, s8), (64, 32, 1, 1, e), (32, 32, 3, 1, e),
              (32, 54, 1, 1, e)]
    print(f"{'layer':<28} {'plain ms':>9} {'GFLOP/s':>8} | {'cl3d ms':>9} {'GFLOP/s':>8}")
    tot = [0.0, 0.0]
    flops = 0.0
    with torch.inference_mode():
        for cin, cout, k, s, (ld, lh, lw) in layers:
            conv = block(cin, cout, k, s).eval()
            x = torch.randn(1, cin, ld, lh, lw)
            convl = block(cin, cout, k, s).eval().to(memory_format=torch.channels_last_3d)
            convl.load_state_dict(conv.state_dict())
            xl = x.to(memory_format=torch.channels_last_3d)
            tp = median(a.repeats, lambda: F.leaky_relu(conv(x), 0.1))
            tl = median(a.repeats, lambda: F.leaky_relu(convl(xl), 0.1))
            out = [(m + 2 * (k // 2) - k) // s + 1 for m in (ld, lh, lw)]
            f = 2.0 * out[0] * out[1] * out[2] * cin * cout * k**3
            flops += f
            tot[0] += tp
            tot[1] += tl
            print(f"{f'{cin}→{cout} {k}³/{s} at {ld}×{lh}×{lw}':<28} {tp * 1e3:9.2f} {f / tp / 1e9:8.1f} | {tl * 1e3:9.2f} {f / tl / 1e9:8.1f}")
        print(f"{'all convolutions':<28} {tot[0] * 1e3:9.2f} {flops / tot[0] / 1e9:8.1f} | {tot[1] * 1e3:9.2f} {flops / tot[1] / 1e9:8.1f}")
        net = Efficient().eval()
        x = torch.randn(1, 1, d, h, w)
        netl = Efficient().eval().to(memory_format=torch.channels_last_3d)
        netl.load_state_dict(net.state_dict())
        xl = x.to(memory_format=torch.channels_last_3d)
        tp = median(a.repeats, lambda: net(x))
        tl = median(a.repeats, lambda: netl(xl))
        print(f"efficient network, {d}×{h}×{w} tile: plain {tp * 1e3:.0f} ms, channels_last_3d {tl * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
