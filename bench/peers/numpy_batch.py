"""numpy peer for the throughput benchmark: a batch of crops of an npy file (np.load mmap_mode='r')
into a preallocated NCHW float32 batch, one crop at a time:
np.array(mm[y0:y1, x0:x1]).transpose(2, 0, 1).astype(np.float32), then (x * scale - mean) / std.
Reads {"path", "batches": [[[y0, y1, x0, x1], ...], ...], "scale", "mean", "std"} on stdin;
prints {"us_per_batch": median} as JSON. Run by bench/run.ts with Debian's /usr/bin/python3."""
import json
import sys
import time

import numpy as np


def main():
    case = json.load(sys.stdin)
    mm = np.load(case["path"], mmap_mode="r")
    batches = case["batches"]
    n = len(batches[0])
    y0, y1, x0, x1 = batches[0][0]
    c = mm.shape[2]
    out = np.empty((n, c, y1 - y0, x1 - x0), dtype=np.float32)
    scale = np.float32(case["scale"])
    mean = np.array(case["mean"], dtype=np.float32).reshape(c, 1, 1)
    std = np.array(case["std"], dtype=np.float32).reshape(c, 1, 1)

    def one(batch):
        for i, (a, b, p, q) in enumerate(batch):
            x = np.array(mm[a:b, p:q]).transpose(2, 0, 1).astype(np.float32)
            out[i] = (x * scale - mean) / std

    one(batches[0])
    samples = []
    for k in range(len(batches)):
        t0 = time.perf_counter()
        one(batches[k])
        samples.append((time.perf_counter() - t0) * 1e6)
    samples.sort()
    print(json.dumps({"us_per_batch": samples[len(samples) // 2]}))


main()
