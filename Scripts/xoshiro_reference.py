#!/usr/bin/env python3
"""Known answers for `Generator` (Tests/AutogradTests/TensorFactoriesTests.swift): the first raw
outputs of xoshiro256** (Blackman and Vigna, https://prng.di.unimi.it/xoshiro256starstar.c)
whose four state words are the first four outputs of splitmix64 started at the seed
(https://prng.di.unimi.it/splitmix64.c). Pure Python, written from those two reference programs.

Usage: python3 Scripts/xoshiro_reference.py
"""

M = (1 << 64) - 1


def splitmix64(x):
    while True:
        x = (x + 0x9E3779B97F4A7C15) & M
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        yield z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def xoshiro256starstar(seed):
    sm = splitmix64(seed)
    s = [next(sm) for _ in range(4)]
    while True:
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield result


if __name__ == "__main__":
    for seed in (0, 11):
        g = xoshiro256starstar(seed)
        print(seed, ", ".join(f"0x{next(g):016x}" for _ in range(4)))
