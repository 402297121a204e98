"""numpy peer for the npy benchmark: np.load(mmap_mode='r') then slicing with a forced copy.
Reads a JSON list of cases on stdin: {"name", "path", "crops": [[y0, y1, x0, x1], ...]};
prints {name: median µs/op} as JSON. Run by bench/run.ts with Debian's /usr/bin/python3."""
import json
import sys
import time

import numpy as np


def median_us(fn, crops):
    # calibrate so a sample takes ~5 ms, then 15 samples
    reps = 1
    while True:
        t0 = time.perf_counter()
        for i in range(reps):
            fn(crops[i % len(crops)])
        if time.perf_counter() - t0 > 0.005 or reps > 1 << 20:
            break
        reps *= 2
    samples = []
    for _ in range(15):
        t0 = time.perf_counter()
        for i in range(reps):
            fn(crops[i % len(crops)])
        samples.append((time.perf_counter() - t0) / reps * 1e6)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    cases = json.load(sys.stdin)
    out = {}
    maps = {}
    for case in cases:
        mm = maps.get(case["path"])
        if mm is None:
            mm = maps[case["path"]] = np.load(case["path"], mmap_mode="r")
        out[case["name"]] = median_us(lambda c: np.array(mm[c[0]:c[1], c[2]:c[3]]), case["crops"])
    print(json.dumps(out))


main()
