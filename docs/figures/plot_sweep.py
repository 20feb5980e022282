#!/usr/bin/env python3
"""Plots `placer sweep --output json` as an SVG: the median over seeds of the unallocated GPU %
against arrived workload %, one line per policy (standard library only).

    placer sweep ... --output json > sweep.json
    python3 docs/figures/plot_sweep.py sweep.json > sweep.svg
"""
import json
import statistics
import sys

COLORS = {"Random": "#7f7f7f", "DotProd": "#9467bd", "GpuClustering": "#8c564b",
          "GpuPacking": "#ff7f0e", "BestFit": "#1f77b4", "FGD": "#d62728"}
W, H, L, R, T, B = 640, 420, 60, 150, 20, 50
X0, X1, Y0, Y1 = 0.0, 130.0, 0.0, 40.0


def x(v):
    return L + (v - X0) / (X1 - X0) * (W - L - R)


def y(v):
    return H - B - (v - Y0) / (Y1 - Y0) * (H - T - B)


def main():
    runs = json.load(open(sys.argv[1]))["runs"]
    by_policy = {}
    for r in runs:
        by_policy.setdefault(r["policy"], []).append(r["curve"])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for t in range(0, 131, 10):
        out.append(f'<line x1="{x(t)}" y1="{y(Y0)}" x2="{x(t)}" y2="{y(Y1)}" stroke="#eee"/>'
                   f'<text x="{x(t)}" y="{H - B + 15}" text-anchor="middle">{t}</text>')
    for t in range(0, 41, 5):
        out.append(f'<line x1="{x(X0)}" y1="{y(t)}" x2="{x(X1)}" y2="{y(t)}" stroke="#eee"/>'
                   f'<text x="{L - 5}" y="{y(t) + 4}" text-anchor="end">{t}</text>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">arrived workload (% of GPU capacity)</text>')
    out.append(f'<text transform="translate(15,{(T + H - B) / 2}) rotate(-90)" text-anchor="middle">unallocated GPU (%), median over seeds</text>')
    for i, (policy, curves) in enumerate(by_policy.items()):
        n = min(len(c) for c in curves)
        pts = []
        for k in range(n):
            a = statistics.median(c[k]["arrived_pct"] for c in curves)
            u = statistics.median(c[k]["unallocated_gpu_pct"] for c in curves)
            if u <= Y1:
                pts.append(f"{x(a):.1f},{y(u):.1f}")
        color = COLORS.get(policy, "black")
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(pts)}"/>')
        out.append(f'<line x1="{W - R + 10}" y1="{T + 15 + 18 * i}" x2="{W - R + 30}" y2="{T + 15 + 18 * i}" stroke="{color}" stroke-width="2"/>'
                   f'<text x="{W - R + 35}" y="{T + 19 + 18 * i}">{policy}</text>')
    out.append("</svg>")
    print("\n".join(out))


main()
