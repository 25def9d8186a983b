"""Fits the tables of the float32 tanh and erf in Sources/CKernels/ck_vec_impl.inc (ck_vtanhf,
ck_verff) and prints them as the X-macros CK_TANHF_ROWS and CK_ERFF_ROWS.

f(a), a = min(|x|, clamp), is (c0 + k s) + s (c1 + s (c2 + ... + s c5)), s = a - m, on one of
32 intervals: the interval is picked by the exponent and the top three mantissa bits of b = a + 1
(eight intervals per octave of b: widths 1/8 for a in [0, 1), 1/4 up to 3, 1/2 up to 7, 1
beyond). b's rounding can move an a within 2^-20 of a boundary into the neighbouring interval,
so each fit covers its interval widened by 2^-19. Intervals beyond the clamp are never used and
repeat the last one.

In every interval but the first, k = 0 and m is a float32 near the middle of the interval whose
f lies within about 1e-5 ulp of a float32, taken as c0: the constant term is then all but exact,
and the one rounding of the final FMA is nearly the whole error (Gal's accurate tables). Where f
rounds to 1 in the middle of an interval, m is taken near where f crosses 1 - 2^-24 instead.
s = a - m is exact (a / 2 <= m <= 2 a, checked). The first interval has m = c0 = 0 and k = 1 with
c1 less 1 in the c1 column (c1 = 1 for tanh, so tanh(a) = a where it should be): c0 + k s = s is
exact and f(a) = s + s Q(s) rounds once, so the error stays relative down to the denormals
(c1 - 1 is what is fitted there, to float32 precision).

Each polynomial minimises the largest relative error of f (Lawson's iteration: iteratively
reweighted least squares on 4000 Chebyshev nodes); c1 .. c5 are rounded to float32 one at a time, lowest order first, each rounding
compensated by refitting the ones above it. Python's math.tanh and math.erf (double precision)
are the reference. Needs NumPy. Rows are (m, k, c0, c1, .., c5), row j for the b whose float32
pattern has bits 20..24 equal to j.

Check the results with Benchmarks/ckernels_ulp.c (every float32 input against double tanh, erf).
"""
import math
import sys

import numpy as np


DEG = 5


def cheb_nodes(a, b, n):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)


def fit(f, a, b, deg, weight, fixed, n=4000, iters=40):
    """Coefficients 0..deg of sum c_k t^k ~ f(t) on [a, b], the first len(fixed) given."""
    ts = cheb_nodes(a, b, n)
    ys = np.array([f(t) for t in ts])
    w = np.array([weight(t) for t in ts])
    V = np.stack([ts ** k for k in range(deg + 1)], 1)
    nf = len(fixed)
    r = ys - (V[:, :nf] @ np.array(fixed) if nf else 0)
    W = V[:, nf:]
    lw = np.ones(n)
    for _ in range(iters):
        c, *_ = np.linalg.lstsq(W * (w * np.sqrt(lw))[:, None], r * w * np.sqrt(lw), rcond=None)
        e = np.abs((W @ c - r) * w)
        lw = lw * (e / e.max() + 1e-3)
        lw /= lw.sum()
    return list(fixed) + list(c), e.max()


def intervals():
    """(row, lo, hi) of a for b = a + 1 in [1, 16), by bits 20..24 of b's float32 pattern."""
    out = []
    for e in range(4):
        for k in range(8):
            b_lo = 2.0 ** e * (1 + k / 8)
            bits = int(np.float32(b_lo).view(np.uint32))
            out.append(((bits >> 20) & 31, b_lo - 1, b_lo - 1 + 2.0 ** e / 8))
    return out


def rounded_fit(f, a, b, weight, fixed):
    fixed = list(fixed)
    err = 0.0
    while len(fixed) <= DEG:
        c, err = fit(f, a, b, DEG, weight, fixed)
        fixed.append(float(np.float32(c[len(fixed)])))
    return fixed, err


def centre(f, lo, hi):
    """A float32 m near the middle of [lo, hi] whose f is closest to a float32, and that offset
    in ulps of f(m) rounded."""
    mid_lo, mid_hi = lo + (hi - lo) / 4, hi - (hi - lo) / 4
    if np.float32(f(mid_lo)) == 1:  # no c0 is near f(m): go where f crosses 1 - 2^-24
        x0, x1 = 0.0, mid_lo
        for _ in range(200):
            xm = (x0 + x1) / 2
            x0, x1 = (xm, x1) if f(xm) < 1 - 2.0 ** -24 else (x0, xm)
        mid_lo, mid_hi = x0 - 0.05, x0 + 0.05
    b0 = int(np.float32(mid_lo).view(np.uint32))
    b1 = int(np.float32(mid_hi).view(np.uint32))
    half = min((b1 - b0) // 2, 1 << 20)
    c = (b0 + b1) // 2
    m = np.arange(c - half, c + half, dtype=np.uint32).view(np.float32).astype(np.float64)
    t = np.array([f(v) for v in m])
    t32 = t.astype(np.float32)
    off = np.abs(t - t32.astype(np.float64)) / np.spacing(t32).astype(np.float64)
    i = int(np.argmin(off))
    assert hi / 2 <= m[i] <= 2 * lo, "a - m would not be exact"
    return float(m[i]), float(off[i])


def table(f, clamp, c1):
    """Rows of the table for f, and the largest relative fit error and c0 offset (ulps)."""
    rows = [None] * 32
    worst = worst_off = 0.0
    last = None
    for row, lo, hi in intervals():
        if lo < clamp:
            a1 = min(hi + 2.0 ** -19, clamp)
            if lo == 0:
                # f(s) - s, whose linear coefficient c1 - 1 is what the table holds
                fixed = [0.0] if c1 is None else [0.0, c1 - 1.0]
                c, err = rounded_fit(lambda s: f(s) - s, 2.0 ** -30, a1, lambda s: 1 / f(s), fixed)
                last = [0.0, 1.0] + c
            else:
                m, off = centre(f, lo, min(hi, clamp))
                worst_off = max(worst_off, off)
                c, err = rounded_fit(lambda s: f(s + m), lo - 2.0 ** -19 - m, a1 - m,
                                     lambda s: 1 / f(s + m), [float(np.float32(f(m)))])
                last = [m, 0.0] + c
            worst = max(worst, err)
        rows[row] = last
    return rows, worst, worst_off


def main():
    lit = lambda v: float(np.float32(v)).hex().replace("0000000p", "p") + "f" if v != 0 else "0.0f"
    for name, f, clamp, c1 in (("TANHF", math.tanh, 9.5, 1.0), ("ERFF", math.erf, 3.9375, None)):
        rows, worst, off = table(f, clamp, c1)
        print(f"#define CK_{name}_ROWS(X) \\")
        for j, r in enumerate(rows):
            print("    X(" + ", ".join(lit(v) for v in r) + ")" + (" \\" if j < 31 else ""))
        print(f"{name}: largest relative fit error {worst:.3g} (2^{math.log2(worst):.1f}); c0 within"
              f" {off:.2g} ulp of f(m); clamp {clamp}", file=sys.stderr)


if __name__ == "__main__":
    main()
