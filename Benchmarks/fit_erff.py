"""Fits the polynomials of the float32 erf in Sources/CKernels/ck_vec_impl.inc (ck_verff).

    erf(x) = x + x * Q(x^2)           for |x| < 0.921875   (Q of degree 6)
    erf(x) = 1 - 2^R(|x| - 1)         for 0.921875 <= |x| < 4   (R of degree 6, fits log2(erfc))
    2^f = E(f)                        for |f| <= 1/2   (E of degree 6; 2^R = 2^n E(R - n))

Q and R minimise the largest relative error of erf itself: Q weighted by 1 / (1 + Q), R by
ln 2 erfc(x) / erf(x) (an error d in R moves erf by d ln 2 erfc(x)); E its relative error. Lawson's iteration (iteratively
reweighted least squares on 4000 Chebyshev nodes) approaches the minimax fit; the coefficients
are then rounded to float32 one at a time, lowest order first, each rounding compensated by
refitting the ones above it. Python's math.erf / math.erfc (double precision) are the reference.
Needs NumPy. Prints the coefficients as C hex-float literals, lowest order first.

Check the result with Benchmarks/ckernels_ulp.c (every float32 input against double erf).
"""
import math
import sys

import numpy as np

A0 = 0.921875  # the branch point; |x| - 1 is exact above it


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


def rounded_fit(f, a, b, deg, weight):
    fixed = []
    for k in range(deg + 1):
        c, err = fit(f, a, b, deg, weight, fixed)
        fixed.append(float(np.float32(c[k])))
    return fixed, err


def P(z):  # erf(x) / x as a function of z = x^2
    return math.erf(math.sqrt(z)) / math.sqrt(z) if z > 0 else 2 / math.sqrt(math.pi)


def main():
    q, eq = rounded_fit(lambda z: P(z) - 1, 0, A0 * A0, 6, lambda z: 1 / P(z))
    r, er = rounded_fit(lambda t: math.log2(math.erfc(t + 1)), A0 - 1, 3.0, 6,
                        lambda t: math.log(2) * math.erfc(t + 1) / math.erf(t + 1))
    e, ee = rounded_fit(lambda f: 2.0 ** f, -0.5, 0.5, 6, lambda f: 2.0 ** -f)
    lit = lambda v: float(np.float32(v)).hex().replace("0000000p", "p") + "f"
    print("Q:", ", ".join(lit(c) for c in q))
    print("R:", ", ".join(lit(c) for c in r))
    print("E:", ", ".join(lit(c) for c in e))
    print(f"largest weighted fit error: Q {eq:.3g}, R {er:.3g} (relative to erf), E {ee:.3g}", file=sys.stderr)


if __name__ == "__main__":
    main()
