"""Python GDAL peers for the COG benchmark, reading the same windows as ndsampler:
  - "perband": the original ndsampler's way — per band ReadAsArray into a preallocated HWC array
  - "dataset": the best GDAL HWC read — one dataset-level ReadAsArray(interleave='pixel')
Hot: GDAL's block cache is warm (default cache). Cold: the block cache is flushed before every op
(gdal.SetCacheMax(0) between ops), so every op decodes its tiles.
Reads JSON cases on stdin: {"name", "path", "crops": [[y0, y1, x0, x1], ...], "mode": "perband"|"dataset",
"cold": bool}; prints {name: median µs/op}. Run with Debian's /usr/bin/python3."""
import json
import sys
import time

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
DEFAULT_CACHE = gdal.GetCacheMax()


def perband(ds, c, out):
    h, w = c[1] - c[0], c[3] - c[2]
    o = out[:h, :w]
    for i in range(ds.RasterCount):
        o[:, :, i] = ds.GetRasterBand(i + 1).ReadAsArray(c[2], c[0], w, h)
    return o


def dataset(ds, c, out):
    return ds.ReadAsArray(c[2], c[0], c[3] - c[2], c[1] - c[0], interleave="pixel")


def median_us(fn, crops, cold, min_reps=1):
    def one(i):
        if cold:
            gdal.SetCacheMax(0)
            gdal.SetCacheMax(DEFAULT_CACHE)
        fn(crops[i % len(crops)])

    reps = min_reps
    while True:
        t0 = time.perf_counter()
        for i in range(reps):
            one(i)
        if time.perf_counter() - t0 > 0.02 or reps > 1 << 18:
            break
        reps *= 2
    samples = []
    for s in range(9):
        t0 = time.perf_counter()
        for i in range(reps):
            one(i + s * reps)
        samples.append((time.perf_counter() - t0) / reps * 1e6)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    cases = json.load(sys.stdin)
    res = {}
    for case in cases:
        ds = gdal.Open(case["path"])
        crops = case["crops"]
        mh = max(c[1] - c[0] for c in crops)
        mw = max(c[3] - c[2] for c in crops)
        dt = ds.GetRasterBand(1).ReadAsArray(0, 0, 1, 1).dtype
        out = np.empty((mh, mw, ds.RasterCount), dtype=dt)
        fn = perband if case["mode"] == "perband" else dataset
        res[case["name"]] = median_us(lambda c: fn(ds, c, out), crops, case["cold"])
        ds = None
    print(json.dumps(res))


main()
