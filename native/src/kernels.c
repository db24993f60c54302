/*
 * Memory-bound kernels that onnxruntime cannot express well (docs/performance.md says what each
 * bought): the decoder transpose done while loading an ae.pt, and the SAE's sparse decode and
 * projection over CSR rows of active features. Plain N-API (one build serves Node and Electron);
 * src-main/engine/native-kernels.ts loads it and falls back to the TypeScript loops, which are
 * also what the tests compare these against.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifndef _WIN32
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

/* x86-64 with GCC or clang: AVX2 code paths picked at run time, so one build still runs on
 * CPUs without them. */
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86_DISPATCH 1
#include <immintrin.h>
#else
#define HAVE_X86_DISPATCH 0
#endif
#if HAVE_X86_DISPATCH && !defined(__clang__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* ---- kernels (no N-API in here) ------------------------------------------------------------ */

/* Rows r0 .. r0+k-1 of a row-major [R, C] matrix, given as `band` [k, C], into out = its
 * transpose [C, R]; sum_sq[c] += squares of column c (the rows of out), summed in float64 over
 * the band's rows in order, then added: the same order, hence the same bits, as the TypeScript
 * twin. The scalar loop writes each output run contiguously and reads the band down a column. */
static void transpose_band_scalar(const float *band, float *out, double *sum_sq, size_t r0, size_t k, size_t R, size_t C, size_t c_from, size_t c_to) {
  for (size_t c = c_from; c < c_to; c++) {
    float *o = out + c * R + r0;
    double ss = 0;
    for (size_t j = 0; j < k; j++) {
      float v = band[j * C + c];
      o[j] = v;
      ss += (double)v * (double)v;
    }
    sum_sq[c] += ss;
  }
}

#if HAVE_X86_DISPATCH
/* 8 x 8 tiles transposed in AVX registers: eight row loads, eight contiguous stores. */
__attribute__((target("avx2"))) static void transpose_band_avx2(const float *band, float *out, double *sum_sq, size_t r0, size_t k, size_t R, size_t C, size_t c_from, size_t c_to) {
  size_t c8 = c_from + ((c_to - c_from) & ~(size_t)7);
  for (size_t c0 = c_from; c0 < c8; c0 += 8) {
    __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
    for (size_t j0 = 0; j0 < k; j0 += 8) {
      if (j0 + 8 > k) { /* last rows of an odd band: scalar */
        for (size_t j = j0; j < k; j++)
          for (size_t i = 0; i < 8; i++) out[(c0 + i) * R + r0 + j] = band[j * C + c0 + i];
        for (size_t j = j0; j < k; j++) {
          __m256 r = _mm256_loadu_ps(band + j * C + c0);
          __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(r)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(r, 1));
          s_lo = _mm256_add_pd(s_lo, _mm256_mul_pd(lo, lo));
          s_hi = _mm256_add_pd(s_hi, _mm256_mul_pd(hi, hi));
        }
        break;
      }
      __m256 r[8];
      for (int j = 0; j < 8; j++) {
        r[j] = _mm256_loadu_ps(band + (j0 + j) * C + c0);
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(r[j])), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(r[j], 1));
        s_lo = _mm256_add_pd(s_lo, _mm256_mul_pd(lo, lo));
        s_hi = _mm256_add_pd(s_hi, _mm256_mul_pd(hi, hi));
      }
      __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
      __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
      __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
      __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
      __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      float *o = out + c0 * R + r0 + j0;
      _mm256_storeu_ps(o + 0 * R, _mm256_permute2f128_ps(u0, u4, 0x20));
      _mm256_storeu_ps(o + 1 * R, _mm256_permute2f128_ps(u1, u5, 0x20));
      _mm256_storeu_ps(o + 2 * R, _mm256_permute2f128_ps(u2, u6, 0x20));
      _mm256_storeu_ps(o + 3 * R, _mm256_permute2f128_ps(u3, u7, 0x20));
      _mm256_storeu_ps(o + 4 * R, _mm256_permute2f128_ps(u0, u4, 0x31));
      _mm256_storeu_ps(o + 5 * R, _mm256_permute2f128_ps(u1, u5, 0x31));
      _mm256_storeu_ps(o + 6 * R, _mm256_permute2f128_ps(u2, u6, 0x31));
      _mm256_storeu_ps(o + 7 * R, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    __m256d acc_lo = _mm256_loadu_pd(sum_sq + c0), acc_hi = _mm256_loadu_pd(sum_sq + c0 + 4);
    _mm256_storeu_pd(sum_sq + c0, _mm256_add_pd(acc_lo, s_lo));
    _mm256_storeu_pd(sum_sq + c0 + 4, _mm256_add_pd(acc_hi, s_hi));
  }
  transpose_band_scalar(band, out, sum_sq, r0, k, R, C, c8, c_to);
}
#endif

/* Columns [c_from, c_to) of the band. */
static void transpose_band_cols(const float *band, float *out, double *sum_sq, size_t r0, size_t k, size_t R, size_t C, size_t c_from, size_t c_to) {
#if HAVE_X86_DISPATCH
  if (__builtin_cpu_supports("avx2")) {
    transpose_band_avx2(band, out, sum_sq, r0, k, R, C, c_from, c_to);
    return;
  }
#endif
  transpose_band_scalar(band, out, sum_sq, r0, k, R, C, c_from, c_to);
}

#ifndef _WIN32
typedef struct {
  const float *band;
  float *out;
  double *sum_sq;
  size_t r0, k, R, C, c_from, c_to;
} BandPart;

static void *transpose_part(void *arg) {
  BandPart *p = arg;
  transpose_band_cols(p->band, p->out, p->sum_sq, p->r0, p->k, p->R, p->C, p->c_from, p->c_to);
  return NULL;
}
#endif

/* Large bands are split by columns between this thread and one more: the work is mostly
 * first-touch page faults on `out` and memory traffic, which a second core nearly doubles.
 * The halves write disjoint columns of out and sum_sq. */
static void transpose_band(const float *band, float *out, double *sum_sq, size_t r0, size_t k, size_t R, size_t C) {
#ifndef _WIN32
  if (k * C >= ((size_t)1 << 20) && C >= 64) {
    BandPart other = {band, out, sum_sq, r0, k, R, C, (C / 2) & ~(size_t)7, C};
    pthread_t t;
    if (pthread_create(&t, NULL, transpose_part, &other) == 0) {
      transpose_band_cols(band, out, sum_sq, r0, k, R, C, 0, other.c_from);
      pthread_join(t, NULL);
      return;
    }
  }
#endif
  transpose_band_cols(band, out, sum_sq, r0, k, R, C, 0, C);
}

/* out[r] = b_dec + sum over k in row r of val[k] * dec[idx[k]] (rows of dec are D long). */
VECTOR_CLONES
static void decode_rows(const float *dec, const float *b_dec, const int32_t *ptr, const int32_t *idx, const float *val, size_t rows, size_t D, float *out) {
  for (size_t r = 0; r < rows; r++) {
    float *o = out + r * D;
    if (b_dec) memcpy(o, b_dec, D * sizeof(float));
    else memset(o, 0, D * sizeof(float));
    for (int32_t k = ptr[r]; k < ptr[r + 1]; k++) {
      const float v = val[k];
      const float *w = dec + (size_t)idx[k] * D;
      for (size_t d = 0; d < D; d++) o[d] += v * w[d];
    }
  }
}

/* out[k] = g[row(k)] . dec[idx[k]] for every k of the CSR pattern; g rows are D long. Eight
 * partial sums so the dot product vectorizes without reassociation flags. */
VECTOR_CLONES
static void project_rows(const float *dec, const float *g, const int32_t *ptr, const int32_t *idx, size_t rows, size_t D, float *out) {
  for (size_t r = 0; r < rows; r++) {
    const float *gr = g + r * D;
    for (int32_t k = ptr[r]; k < ptr[r + 1]; k++) {
      const float *w = dec + (size_t)idx[k] * D;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      size_t d = 0;
      for (; d + 8 <= D; d += 8)
        for (int l = 0; l < 8; l++) acc[l] += gr[d + l] * w[d + l];
      float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      for (; d < D; d++) s += gr[d] * w[d];
      out[k] = s;
    }
  }
}

/* out[i] = Euclidean norm of row i of mat [rows, cols], summed in float64 (four partial sums). */
VECTOR_CLONES
static void row_norms(const float *mat, size_t rows, size_t cols, double *out) {
  for (size_t i = 0; i < rows; i++) {
    const float *row = mat + i * cols;
    double acc[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= cols; j += 4)
      for (int l = 0; l < 4; l++) acc[l] += (double)row[j + l] * (double)row[j + l];
    double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; j < cols; j++) s += (double)row[j] * (double)row[j];
    out[i] = sqrt(s);
  }
}

/* ---- N-API glue ---------------------------------------------------------------------------- */

typedef struct {
  void *data;
  size_t length;
} View;

static int throw_msg(napi_env env, const char *fn, const char *msg) {
  char buf[256];
  size_t n = strlen(fn);
  if (n > 100) n = 100;
  memcpy(buf, fn, n);
  buf[n] = 0;
  strncat(buf, ": ", sizeof buf - strlen(buf) - 1);
  strncat(buf, msg, sizeof buf - strlen(buf) - 1);
  napi_throw_type_error(env, NULL, buf);
  return 0;
}

/* A typed array of the given type (null allowed when `optional`). Returns 0 after throwing. */
static int view(napi_env env, napi_value v, napi_typedarray_type want, const char *fn, const char *what, int optional, View *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (optional && (t == napi_null || t == napi_undefined)) {
    out->data = NULL;
    out->length = 0;
    return 1;
  }
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (!is || napi_get_typedarray_info(env, v, &type, &out->length, &out->data, &ab, &offset) != napi_ok || type != want) {
    char msg[128] = "expected ";
    strncat(msg, what, sizeof msg - strlen(msg) - 1);
    return throw_msg(env, fn, msg);
  }
  return 1;
}

static int size_arg(napi_env env, napi_value v, const char *fn, size_t *out) {
  double x;
  if (napi_get_value_double(env, v, &x) != napi_ok || !(x >= 0) || x > 9007199254740991.0 || x != (double)(size_t)x)
    return throw_msg(env, fn, "expected a non-negative integer");
  *out = (size_t)x;
  return 1;
}

static int args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *fn) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < n) return throw_msg(env, fn, "too few arguments");
  return 1;
}

/* CSR pattern checks: ptr has rows+1 nondecreasing entries within idx, every idx < limit. */
static int check_csr(napi_env env, const char *fn, const View *ptr, const View *idx, size_t rows, size_t limit) {
  const int32_t *p = ptr->data, *ix = idx->data;
  if (ptr->length != rows + 1 || p[0] != 0) return throw_msg(env, fn, "ptr must have rows + 1 entries starting at 0");
  for (size_t r = 0; r < rows; r++)
    if (p[r + 1] < p[r] || (size_t)p[r + 1] > idx->length) return throw_msg(env, fn, "ptr is not a valid CSR offset array");
  for (int32_t k = 0; k < p[rows]; k++)
    if (ix[k] < 0 || (size_t)ix[k] >= limit) return throw_msg(env, fn, "feature index out of range");
  return 1;
}

/* rowNorms(mat: Float32Array, rows, cols, out: Float64Array) */
static napi_value js_row_norms(napi_env env, napi_callback_info info) {
  const char *fn = "rowNorms";
  napi_value a[4];
  View mat, out;
  size_t rows, cols;
  if (!args(env, info, 4, a, fn) || !view(env, a[0], napi_float32_array, fn, "mat: Float32Array", 0, &mat) || !size_arg(env, a[1], fn, &rows) ||
      !size_arg(env, a[2], fn, &cols) || !view(env, a[3], napi_float64_array, fn, "out: Float64Array", 0, &out))
    return NULL;
  if (mat.length != rows * cols || out.length != rows) return (throw_msg(env, fn, "sizes do not match [rows, cols]"), NULL);
  row_norms(mat.data, rows, cols, out.data);
  return NULL;
}

/* transposeBand(band: Float32Array, out: Float32Array, sumSq: Float64Array, r0, k, R, C) */
static napi_value js_transpose_band(napi_env env, napi_callback_info info) {
  const char *fn = "transposeBand";
  napi_value a[7];
  View band, out, ss;
  size_t r0, k, R, C;
  if (!args(env, info, 7, a, fn) || !view(env, a[0], napi_float32_array, fn, "band: Float32Array", 0, &band) ||
      !view(env, a[1], napi_float32_array, fn, "out: Float32Array", 0, &out) || !view(env, a[2], napi_float64_array, fn, "sumSq: Float64Array", 0, &ss) ||
      !size_arg(env, a[3], fn, &r0) || !size_arg(env, a[4], fn, &k) || !size_arg(env, a[5], fn, &R) || !size_arg(env, a[6], fn, &C))
    return NULL;
  if (r0 + k > R || band.length < k * C || out.length != R * C || ss.length != C) return (throw_msg(env, fn, "sizes do not match [R, C]"), NULL);
  transpose_band(band.data, out.data, ss.data, r0, k, R, C);
  return NULL;
}

/* decodeRows(dec, bDec | null, ptr, idx, val, rows, D, out) */
static napi_value js_decode_rows(napi_env env, napi_callback_info info) {
  const char *fn = "decodeRows";
  napi_value a[8];
  View dec, bdec, ptr, idx, val, out;
  size_t rows, D;
  if (!args(env, info, 8, a, fn) || !view(env, a[0], napi_float32_array, fn, "dec: Float32Array", 0, &dec) ||
      !view(env, a[1], napi_float32_array, fn, "bDec: Float32Array or null", 1, &bdec) || !view(env, a[2], napi_int32_array, fn, "ptr: Int32Array", 0, &ptr) ||
      !view(env, a[3], napi_int32_array, fn, "idx: Int32Array", 0, &idx) || !view(env, a[4], napi_float32_array, fn, "val: Float32Array", 0, &val) ||
      !size_arg(env, a[5], fn, &rows) || !size_arg(env, a[6], fn, &D) || !view(env, a[7], napi_float32_array, fn, "out: Float32Array", 0, &out))
    return NULL;
  if (D == 0 || dec.length % D || (bdec.data && bdec.length != D) || out.length != rows * D || val.length < idx.length)
    return (throw_msg(env, fn, "sizes do not match"), NULL);
  if (!check_csr(env, fn, &ptr, &idx, rows, dec.length / D)) return NULL;
  decode_rows(dec.data, bdec.data, ptr.data, idx.data, val.data, rows, D, out.data);
  return NULL;
}

/* projectRows(dec, g, ptr, idx, rows, D, out): g is [rows, D] (a subarray where offset). */
static napi_value js_project_rows(napi_env env, napi_callback_info info) {
  const char *fn = "projectRows";
  napi_value a[7];
  View dec, g, ptr, idx, out;
  size_t rows, D;
  if (!args(env, info, 7, a, fn) || !view(env, a[0], napi_float32_array, fn, "dec: Float32Array", 0, &dec) ||
      !view(env, a[1], napi_float32_array, fn, "g: Float32Array", 0, &g) || !view(env, a[2], napi_int32_array, fn, "ptr: Int32Array", 0, &ptr) ||
      !view(env, a[3], napi_int32_array, fn, "idx: Int32Array", 0, &idx) || !size_arg(env, a[4], fn, &rows) || !size_arg(env, a[5], fn, &D) ||
      !view(env, a[6], napi_float32_array, fn, "out: Float32Array", 0, &out))
    return NULL;
  if (D == 0 || dec.length % D || g.length < rows * D) return (throw_msg(env, fn, "sizes do not match"), NULL);
  if (!check_csr(env, fn, &ptr, &idx, rows, dec.length / D)) return NULL;
  if (out.length < (size_t)((int32_t *)ptr.data)[rows]) return (throw_msg(env, fn, "out is shorter than the pattern"), NULL);
  project_rows(dec.data, g.data, ptr.data, idx.data, rows, D, out.data);
  return NULL;
}

/* mapRange(path, offset, length): ArrayBuffer | null. A private (copy-on-write) mapping of
 * length bytes of the file from offset, so a stored weight is used where the page cache holds
 * it, with no read and no second copy (as torch.load(mmap=True) does). null where mapping is
 * unavailable: Windows, or a runtime that forbids external buffers (Electron's V8 sandbox);
 * the caller then reads the bytes instead. Unmapped when the buffer is collected. */
typedef struct {
  void *base;
  size_t length;
} Mapping;

#ifndef _WIN32
static void unmap_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  Mapping *m = hint;
  munmap(m->base, m->length);
  free(m);
}
#endif

static napi_value js_map_range(napi_env env, napi_callback_info info) {
  const char *fn = "mapRange";
  napi_value a[3], result;
  size_t offset, length, path_len;
  char path[4096];
  napi_get_null(env, &result);
  if (!args(env, info, 3, a, fn)) return NULL;
  if (napi_get_value_string_utf8(env, a[0], path, sizeof path, &path_len) != napi_ok || path_len >= sizeof path - 1)
    return (throw_msg(env, fn, "expected a file path"), NULL);
  if (!size_arg(env, a[1], fn, &offset) || !size_arg(env, a[2], fn, &length)) return NULL;
#ifdef _WIN32
  (void)offset;
  (void)length;
  return result;
#else
  if (length == 0) return result;
  long page = sysconf(_SC_PAGESIZE);
  size_t skip = offset % (size_t)page;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return result;
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0 || (size_t)size < offset + length) {
    close(fd);
    return result;
  }
  void *base = mmap(NULL, length + skip, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)(offset - skip));
  close(fd);
  if (base == MAP_FAILED) return result;
  madvise(base, length + skip, MADV_WILLNEED); /* start reading ahead if the file is not cached */
  Mapping *m = malloc(sizeof *m);
  if (!m) {
    munmap(base, length + skip);
    return result;
  }
  m->base = base;
  m->length = length + skip;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, (char *)base + skip, length, unmap_finalize, m, &ab) != napi_ok) {
    const napi_extended_error_info *err;
    napi_get_last_error_info(env, &err); /* clears the pending status; no JS exception is raised */
    munmap(base, length + skip);
    free(m);
    return result;
  }
  return ab;
#endif
}

/* trimMemory(): hands free heap pages back to the system (glibc malloc_trim; elsewhere a no-op).
 * onnxruntime frees its per-run buffers to malloc, which keeps them; between batches that is
 * resident memory nobody uses. */
static napi_value js_trim_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
#ifdef __GLIBC__
  napi_get_boolean(env, malloc_trim(0) != 0, &r);
#else
  napi_get_boolean(env, false, &r);
#endif
  return r;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor fns[] = {
      {"transposeBand", NULL, js_transpose_band, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decodeRows", NULL, js_decode_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"projectRows", NULL, js_project_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapRange", NULL, js_map_range, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rowNorms", NULL, js_row_norms, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trimMemory", NULL, js_trim_memory, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
