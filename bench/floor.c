/* The memcpy floor for crops, measured in C in the same run as the library.
 * Usage: floor H W C CROP_H CROP_W N_OPS SEED
 * Copies N_OPS random CROP_H x CROP_W x C uint8 windows out of an H x W x C image, row by row,
 * (a) into one preallocated buffer and (b) into a fresh malloc'd buffer freed after use (what a
 * copy-out that returns a new array must at least do). Prints medians of 15 samples in µs/op as
 * JSON: {"prealloc": ..., "alloc": ...}. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}
static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

int main(int argc, char** argv) {
  if (argc < 8) return 2;
  long H = atol(argv[1]), W = atol(argv[2]), C = atol(argv[3]);
  long ch = atol(argv[4]), cw = atol(argv[5]), n = atol(argv[6]);
  rng ^= (uint64_t)atol(argv[7]);
  uint8_t* img = malloc((size_t)H * W * C);
  for (size_t i = 0; i < (size_t)H * W * C; i++) img[i] = (uint8_t)(i * 2654435761u >> 13);
  size_t row = (size_t)cw * C, total = row * ch;
  uint8_t* pre = malloc(total);
  long* ys = malloc(sizeof(long) * n);
  long* xs = malloc(sizeof(long) * n);
  for (long i = 0; i < n; i++) {
    ys[i] = H > ch ? (long)(next() % (uint64_t)(H - ch + 1)) : 0;
    xs[i] = W > cw ? (long)(next() % (uint64_t)(W - cw + 1)) : 0;
  }
  double a[15], b[15];
  volatile uint8_t sink = 0;
  for (int s = 0; s < 15; s++) {
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
      const uint8_t* src = img + ((size_t)ys[i] * W + xs[i]) * C;
      for (long y = 0; y < ch; y++) memcpy(pre + y * row, src + (size_t)y * W * C, row);
      sink ^= pre[total - 1];
    }
    a[s] = (now_us() - t0) / n;
    t0 = now_us();
    for (long i = 0; i < n; i++) {
      uint8_t* dst = malloc(total);
      const uint8_t* src = img + ((size_t)ys[i] * W + xs[i]) * C;
      for (long y = 0; y < ch; y++) memcpy(dst + y * row, src + (size_t)y * W * C, row);
      sink ^= dst[total - 1];
      free(dst);
    }
    b[s] = (now_us() - t0) / n;
  }
  qsort(a, 15, sizeof(double), cmp);
  qsort(b, 15, sizeof(double), cmp);
  printf("{\"prealloc\": %.4f, \"alloc\": %.4f}\n", a[7], b[7]);
  return sink == 255 ? 0 : 0;
}
