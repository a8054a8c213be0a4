/* yflink._speedups: the keyed shuffle's per-record routing and the network's batch codec in C.
 *
 * Optional: yflink/graph/partitioners.py and yflink/state/key_groups.py fall back to their pure-Python code when
 * this extension was not built (no C compiler at install time). Both must agree bit for bit: the hash decides which
 * subtask owns a key, and tests/unit/test_speedups.py compares them on many keys.
 *
 *   stable_hash(key) -> int
 *       yflink.state.key_groups.stable_hash for str, int, bool, bytes, float, None and tuples of those (nested at
 *       most 32 deep); any other key (subclasses and bytearray included) goes to the Python fallback given to
 *       set_fallback().
 *   route_key_groups(values, key_fn, num_channels, max_parallelism, timestamps=None, field=-1)
 *           -> (buckets, ts_buckets)
 *       For each value: key = key_fn(value); key group = murmur(stable_hash(key)) % max_parallelism (Flink
 *       KeyGroupRangeAssignment.assignToKeyGroup); channel = key_group * num_channels // max_parallelism
 *       (computeOperatorIndexForKeyGroup). buckets[c] lists the values of channel c in input order; ts_buckets is
 *       None without timestamps, else their timestamps likewise. Raises what key_fn raises, and TypeError for a
 *       key that is not hashable (as a key of keyed state must be). field >= 0 says key_fn is
 *       operator.itemgetter(field): the key of an exact tuple is then read without calling it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *fallback_hash = NULL; /* yflink.state.key_groups._stable_hash_py */

static uint32_t crc_table[4][256];

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 4; t++)
            crc_table[t][n] = crc_table[0][crc_table[t - 1][n] & 0xFF] ^ (crc_table[t - 1][n] >> 8);
}

/* zlib.crc32(data), four bytes per step (slicing-by-4) */
static inline uint32_t crc32_of(const unsigned char *p, Py_ssize_t n) {
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 4) {
        uint32_t word = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
        c ^= word;
        c = crc_table[3][c & 0xFF] ^ crc_table[2][(c >> 8) & 0xFF] ^ crc_table[1][(c >> 16) & 0xFF] ^
            crc_table[0][c >> 24];
        p += 4;
        n -= 4;
    }
    while (n-- > 0) c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t hash_u64(uint64_t v) { return (uint32_t)((v ^ (v >> 32)) & 0xFFFFFFFFu); }

#define MAX_KEY_DEPTH 32 /* deeper tuples go to the Python fallback (no unbounded C recursion) */

/* 0 on success with *out set; -1 with an exception set. */
static int stable_hash_depth(PyObject *key, uint32_t *out, int check_hashable, int depth) {
    if (PyUnicode_CheckExact(key)) {
        if (PyUnicode_IS_COMPACT_ASCII(key)) {
            *out = crc32_of((const unsigned char *)PyUnicode_DATA(key), PyUnicode_GET_LENGTH(key));
            return 0;
        }
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(key, &size);
        if (utf8 != NULL) {
            *out = crc32_of((const unsigned char *)utf8, size);
            return 0;
        }
        PyErr_Clear(); /* lone surrogates: "surrogatepass" in the Python code */
    } else if (key == Py_True) {
        *out = 1231;
        return 0;
    } else if (key == Py_False) {
        *out = 1237;
        return 0;
    } else if (PyLong_CheckExact(key)) {
        unsigned long long v = PyLong_AsUnsignedLongLongMask(key); /* key & 0xFFFFFFFFFFFFFFFF */
        if (v == (unsigned long long)-1 && PyErr_Occurred()) return -1;
        *out = hash_u64((uint64_t)v);
        return 0;
    } else if (PyBytes_CheckExact(key)) {
        *out = crc32_of((const unsigned char *)PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key));
        return 0;
    } else if (PyFloat_CheckExact(key)) {
        double d = PyFloat_AS_DOUBLE(key);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        *out = hash_u64(bits);
        return 0;
    } else if (key == Py_None) {
        *out = 0;
        return 0;
    } else if (PyTuple_CheckExact(key) && depth < MAX_KEY_DEPTH) {
        uint32_t result = 1;
        Py_ssize_t n = PyTuple_GET_SIZE(key);
        for (Py_ssize_t i = 0; i < n; i++) {
            uint32_t item;
            if (stable_hash_depth(PyTuple_GET_ITEM(key, i), &item, check_hashable, depth + 1) < 0) return -1;
            result = 31u * result + item;
        }
        *out = result;
        return 0;
    }
    if (fallback_hash == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "yflink._speedups: set_fallback() was not called");
        return -1;
    }
    if (check_hashable && !PyUnicode_CheckExact(key) && PyObject_Hash(key) == -1) return -1; /* TypeError */
    PyObject *r = PyObject_CallOneArg(fallback_hash, key);
    if (r == NULL) return -1;
    unsigned long long v = PyLong_AsUnsignedLongLongMask(r);
    Py_DECREF(r);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) return -1;
    *out = (uint32_t)(v & 0xFFFFFFFFu);
    return 0;
}

static int stable_hash_of(PyObject *key, uint32_t *out, int check_hashable) {
    return stable_hash_depth(key, out, check_hashable, 0);
}

/* Flink MathUtils.murmurHash(int): non-negative. */
static inline int64_t murmur(uint32_t code) {
    code *= 0xCC9E2D51u;
    code = (code << 15) | (code >> 17);
    code *= 0x1B873593u;
    code = (code << 13) | (code >> 19);
    code = code * 5u + 0xE6546B64u;
    code ^= 4u;
    code ^= code >> 16;
    code *= 0x85EBCA6Bu;
    code ^= code >> 13;
    code *= 0xC2B2AE35u;
    code ^= code >> 16;
    int32_t s = (int32_t)code;
    int64_t v = s; /* Java: s >= 0 ? s : (s != MIN_VALUE ? -s : 0), without branches (the sign is a coin toss) */
    int64_t sign = v >> 63;
    v = (v ^ sign) - sign;
    return v & -(int64_t)(s != INT32_MIN);
}

static PyObject *py_stable_hash(PyObject *self, PyObject *key) {
    uint32_t h;
    if (stable_hash_of(key, &h, 0) < 0) return NULL;
    return PyLong_FromUnsignedLong(h);
}

static PyObject *py_set_fallback(PyObject *self, PyObject *fn) {
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "set_fallback needs a callable");
        return NULL;
    }
    Py_INCREF(fn);
    Py_XSETREF(fallback_hash, fn);
    Py_RETURN_NONE;
}

static PyObject *py_route_key_groups(PyObject *self, PyObject *args) {
    PyObject *values, *key_fn, *timestamps = Py_None;
    Py_ssize_t n, max_par, field = -1;
    if (!PyArg_ParseTuple(args, "O!Onn|On:route_key_groups", &PyList_Type, &values, &key_fn, &n, &max_par,
                          &timestamps, &field))
        return NULL;
    if (n < 1 || max_par < n || n > 65535) {
        PyErr_Format(PyExc_ValueError,
                     "route_key_groups: need 1 <= num_channels (%zd) <= max_parallelism (%zd), and <= 65535", n,
                     max_par);
        return NULL;
    }
    int pow2_shift = -1;
    if ((max_par & (max_par - 1)) == 0)
        for (pow2_shift = 0; ((Py_ssize_t)1 << pow2_shift) < max_par; pow2_shift++) {
        }
    Py_ssize_t count = PyList_GET_SIZE(values);
    if (timestamps != Py_None && (!PyList_Check(timestamps) || PyList_GET_SIZE(timestamps) != count)) {
        PyErr_SetString(PyExc_ValueError, "route_key_groups: timestamps must be None or a list as long as values");
        return NULL;
    }
    /* Pass 1: every record's channel (the key selector may be user code: it runs here only). */
    uint16_t *channels = PyMem_Malloc((count ? count : 1) * sizeof(uint16_t));
    Py_ssize_t *sizes = PyMem_Calloc(n, sizeof(Py_ssize_t));
    PyObject *buckets = NULL, *ts_buckets = NULL;
    if (channels == NULL || sizes == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    PyObject **items = ((PyListObject *)values)->ob_item;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (PyList_GET_SIZE(values) != count || ((PyListObject *)values)->ob_item != items) {
            PyErr_SetString(PyExc_RuntimeError, "route_key_groups: the batch changed while it was routed");
            goto error;
        }
        if (i + 8 < count) __builtin_prefetch(items[i + 8]); /* records are often out of the CPU cache */
        if (field >= 0 && i + 4 < count) {
            PyObject *ahead = items[i + 4];
            if (PyTuple_CheckExact(ahead) && field < PyTuple_GET_SIZE(ahead))
                __builtin_prefetch(PyTuple_GET_ITEM(ahead, field));
        }
        PyObject *value = items[i];
        PyObject *key;
        if (field >= 0 && PyTuple_CheckExact(value) && field < PyTuple_GET_SIZE(value)) {
            key = PyTuple_GET_ITEM(value, field); /* key_fn is itemgetter(field): the same, without the call */
            Py_INCREF(key);
        } else {
            Py_INCREF(value);
            key = PyObject_CallOneArg(key_fn, value);
            Py_DECREF(value);
            if (key == NULL) goto error;
        }
        uint32_t h;
        int rc = 0;
        if (PyUnicode_CheckExact(key) && PyUnicode_IS_COMPACT_ASCII(key)) /* the usual key: inline */
            h = crc32_of((const unsigned char *)PyUnicode_DATA(key), PyUnicode_GET_LENGTH(key));
        else
            rc = stable_hash_of(key, &h, 1);
        Py_DECREF(key);
        if (rc < 0) goto error;
        Py_ssize_t channel;
        if (pow2_shift >= 0) /* max parallelism a power of two (128 by default): no divisions */
            channel = (Py_ssize_t)(((murmur(h) & (max_par - 1)) * n) >> pow2_shift);
        else
            channel = (Py_ssize_t)((murmur(h) % max_par) * n / max_par);
        channels[i] = (uint16_t)channel;
        sizes[channel]++;
    }
    if (PyList_GET_SIZE(values) != count || ((PyListObject *)values)->ob_item != items ||
        (timestamps != Py_None && PyList_GET_SIZE(timestamps) != count)) {
        PyErr_SetString(PyExc_RuntimeError, "route_key_groups: the batch changed while it was routed");
        goto error;
    }
    /* Pass 2: lists of their final sizes, filled without appends. */
    buckets = PyList_New(n);
    if (buckets == NULL) goto error;
    if (timestamps != Py_None && (ts_buckets = PyList_New(n)) == NULL) goto error;
    for (Py_ssize_t c = 0; c < n; c++) {
        PyObject *b = PyList_New(sizes[c]);
        if (b == NULL) goto error;
        PyList_SET_ITEM(buckets, c, b);
        if (ts_buckets != NULL) {
            PyObject *tb = PyList_New(sizes[c]);
            if (tb == NULL) goto error;
            PyList_SET_ITEM(ts_buckets, c, tb);
        }
        sizes[c] = 0; /* from here: the fill position */
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        uint16_t c = channels[i];
        PyObject *v = items[i];
        Py_INCREF(v);
        PyList_SET_ITEM(PyList_GET_ITEM(buckets, c), sizes[c], v);
        if (ts_buckets != NULL) {
            PyObject *t = PyList_GET_ITEM(timestamps, i);
            Py_INCREF(t);
            PyList_SET_ITEM(PyList_GET_ITEM(ts_buckets, c), sizes[c], t);
        }
        sizes[c]++;
    }
    PyMem_Free(channels);
    PyMem_Free(sizes);
    if (ts_buckets == NULL) {
        ts_buckets = Py_None;
        Py_INCREF(Py_None);
    }
    return Py_BuildValue("(NN)", buckets, ts_buckets);
error:
    PyMem_Free(channels);
    PyMem_Free(sizes);
    Py_XDECREF(buckets);
    Py_XDECREF(ts_buckets);
    return NULL;
}


/* ---- batch codec -------------------------------------------------------------------------------------------
 * encode_batch(values, timestamps) -> bytes | None
 *     A DATA frame's payload for a batch whose values are built from exact str, int (64-bit), float, bool, None,
 *     bytes and tuples of those (depth <= 16), and whose timestamps are None or a list of 64-bit ints; None for
 *     anything else (the caller falls back to marshal or pickle).
 * decode_batch(payload) -> (values, timestamps)
 *     The inverse; ValueError for a malformed payload.
 * Layout (little-endian): magic 'Y' version 1, u32 count, u8 has_timestamps, [count x i64], count values. A value:
 *     'a' u8 len ASCII bytes | 's' u32 len ASCII bytes | 'u' u32 len UTF-8 bytes | 'j' i32 | 'i' i64 | 'f' f64
 *     | 'N' | 'T' | 'F' | 'b' u32 len bytes | '(' u32 n values.
 */
#define CODEC_VERSION 1
#define MAX_DEPTH 16

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} wbuf;

static int wb_reserve(wbuf *w, Py_ssize_t extra) {
    if (w->len + extra <= w->cap) return 0;
    Py_ssize_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + extra) cap *= 2;
    char *nb = PyMem_Realloc(w->buf, cap);
    if (nb == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

static inline void put_u32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put_i64(char *p, int64_t v) { memcpy(p, &v, 8); }

/* 0 ok, 1 unsupported (no exception), -1 error */
static int enc_value(wbuf *w, PyObject *v, int depth) {
    if (PyUnicode_CheckExact(v)) {
        const char *data;
        Py_ssize_t n;
        char tag;
        if (PyUnicode_IS_COMPACT_ASCII(v)) {
            data = (const char *)PyUnicode_DATA(v);
            n = PyUnicode_GET_LENGTH(v);
            tag = 's';
        } else {
            data = PyUnicode_AsUTF8AndSize(v, &n);
            if (data == NULL) {
                PyErr_Clear();
                return 1;
            }
            tag = 'u';
        }
        if (n > 0x7FFFFFFF) return 1;
        if (tag == 's' && n < 256) { /* the common short key */
            if (wb_reserve(w, 2 + n) < 0) return -1;
            w->buf[w->len] = 'a';
            w->buf[w->len + 1] = (char)n;
            memcpy(w->buf + w->len + 2, data, n);
            w->len += 2 + n;
            return 0;
        }
        if (wb_reserve(w, 5 + n) < 0) return -1;
        w->buf[w->len] = tag;
        put_u32(w->buf + w->len + 1, (uint32_t)n);
        memcpy(w->buf + w->len + 5, data, n);
        w->len += 5 + n;
        return 0;
    }
    if (PyLong_CheckExact(v)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow) return 1;
        if (x == -1 && PyErr_Occurred()) return -1;
        if (x >= INT32_MIN && x <= INT32_MAX) {
            if (wb_reserve(w, 5) < 0) return -1;
            w->buf[w->len] = 'j';
            int32_t y = (int32_t)x;
            memcpy(w->buf + w->len + 1, &y, 4);
            w->len += 5;
            return 0;
        }
        if (wb_reserve(w, 9) < 0) return -1;
        w->buf[w->len] = 'i';
        put_i64(w->buf + w->len + 1, (int64_t)x);
        w->len += 9;
        return 0;
    }
    if (PyTuple_CheckExact(v)) {
        if (depth >= MAX_DEPTH) return 1;
        Py_ssize_t n = PyTuple_GET_SIZE(v);
        if (wb_reserve(w, 5) < 0) return -1;
        w->buf[w->len] = '(';
        put_u32(w->buf + w->len + 1, (uint32_t)n);
        w->len += 5;
        for (Py_ssize_t i = 0; i < n; i++) {
            int rc = enc_value(w, PyTuple_GET_ITEM(v, i), depth + 1);
            if (rc != 0) return rc;
        }
        return 0;
    }
    if (PyFloat_CheckExact(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        if (wb_reserve(w, 9) < 0) return -1;
        w->buf[w->len] = 'f';
        memcpy(w->buf + w->len + 1, &d, 8);
        w->len += 9;
        return 0;
    }
    if (v == Py_None || v == Py_True || v == Py_False) {
        if (wb_reserve(w, 1) < 0) return -1;
        w->buf[w->len++] = v == Py_None ? 'N' : (v == Py_True ? 'T' : 'F');
        return 0;
    }
    if (PyBytes_CheckExact(v)) {
        Py_ssize_t n = PyBytes_GET_SIZE(v);
        if (n > 0x7FFFFFFF) return 1;
        if (wb_reserve(w, 5 + n) < 0) return -1;
        w->buf[w->len] = 'b';
        put_u32(w->buf + w->len + 1, (uint32_t)n);
        memcpy(w->buf + w->len + 5, PyBytes_AS_STRING(v), n);
        w->len += 5 + n;
        return 0;
    }
    return 1;
}

static PyObject *py_encode_batch(PyObject *self, PyObject *args) {
    PyObject *values, *timestamps;
    if (!PyArg_ParseTuple(args, "OO:encode_batch", &values, &timestamps)) return NULL;
    if (!PyList_CheckExact(values) || (timestamps != Py_None && !PyList_CheckExact(timestamps))) Py_RETURN_NONE;
    Py_ssize_t count = PyList_GET_SIZE(values);
    if (count > 0x7FFFFFFF || (timestamps != Py_None && PyList_GET_SIZE(timestamps) != count)) Py_RETURN_NONE;
    wbuf w = {NULL, 0, 0};
    if (wb_reserve(&w, 7 + count * 24) < 0) return NULL;
    w.buf[0] = 'Y';
    w.buf[1] = CODEC_VERSION;
    put_u32(w.buf + 2, (uint32_t)count);
    w.buf[6] = timestamps != Py_None;
    w.len = 7;
    int rc = 0;
    if (timestamps != Py_None) {
        if (wb_reserve(&w, count * 8) < 0) goto error;
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *t = PyList_GET_ITEM(timestamps, i);
            if (!PyLong_CheckExact(t)) {
                rc = 1;
                break;
            }
            int overflow;
            long long x = PyLong_AsLongLongAndOverflow(t, &overflow);
            if (overflow) {
                rc = 1;
                break;
            }
            if (x == -1 && PyErr_Occurred()) goto error;
            put_i64(w.buf + w.len, (int64_t)x);
            w.len += 8;
        }
    }
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(values); i++) {
        rc = enc_value(&w, PyList_GET_ITEM(values, i), 0);
        if (rc < 0) goto error;
    }
    if (rc == 0 && PyList_GET_SIZE(values) != count) rc = 1; /* changed while encoding */
    if (rc == 1) {
        PyMem_Free(w.buf);
        Py_RETURN_NONE;
    }
    PyObject *out = PyBytes_FromStringAndSize(w.buf, w.len);
    PyMem_Free(w.buf);
    return out;
error:
    PyMem_Free(w.buf);
    return NULL;
}

typedef struct {
    const unsigned char *p, *end;
} rbuf;

/* Short ASCII strings decoded lately, by a hash of their bytes: keyed records repeat their keys, and handing out
 * the same str object saves an allocation and lets dict lookups of the consumer's state match by identity with
 * the hash already cached in the object. Strings are immutable, so sharing them is invisible to user code. */
#define STR_CACHE_SIZE 16384
#define STR_CACHE_MAX_LEN 32
static PyObject *str_cache[STR_CACHE_SIZE];

static PyObject *malformed(void) {
    PyErr_SetString(PyExc_ValueError, "decode_batch: malformed payload");
    return NULL;
}

static inline int rb_need(rbuf *r, Py_ssize_t n) { return n >= 0 && r->end - r->p >= n; }

static inline uint32_t get_u32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline int64_t get_i64(const unsigned char *p) {
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static PyObject *dec_value(rbuf *r, int depth) {
    if (!rb_need(r, 1)) return malformed();
    unsigned char tag = *r->p++;
    switch (tag) {
    case 'a': {
        if (!rb_need(r, 1)) return malformed();
        Py_ssize_t n = *r->p++;
        if (!rb_need(r, n)) return malformed();
        const unsigned char *data = r->p;
        r->p += n;
        unsigned char high = 0;
        for (Py_ssize_t i = 0; i < n; i++) high |= data[i];
        if (high > 127) return malformed();
        PyObject **slot = NULL;
        if (n <= STR_CACHE_MAX_LEN) { /* a recently decoded equal key: the same object, its hash already known */
            /* slot: a multiplicative hash of the first and last (up to) 8 bytes and the length */
            uint64_t head = 0, tail = 0;
            memcpy(&head, data, n < 8 ? n : 8);
            if (n > 8) memcpy(&tail, data + n - 8, 8);
            uint64_t mix = (head * 0x9E3779B97F4A7C15ull) ^ (tail * 0xC2B2AE3D27D4EB4Full) ^ (uint64_t)n;
            slot = &str_cache[(mix >> 40) & (STR_CACHE_SIZE - 1)];
            PyObject *cached = *slot;
            if (cached != NULL && PyUnicode_GET_LENGTH(cached) == n && memcmp(PyUnicode_DATA(cached), data, n) == 0) {
                Py_INCREF(cached);
                return cached;
            }
        }
        PyObject *s = PyUnicode_New(n, 127);
        if (s == NULL) return NULL;
        memcpy(PyUnicode_DATA(s), data, n);
        if (slot != NULL) {
            Py_INCREF(s);
            Py_XSETREF(*slot, s);
        }
        return s;
    }
    case 'j': {
        if (!rb_need(r, 4)) return malformed();
        int32_t x;
        memcpy(&x, r->p, 4);
        r->p += 4;
        return PyLong_FromLong(x);
    }
    case 's':
    case 'u':
    case 'b': {
        if (!rb_need(r, 4)) return malformed();
        Py_ssize_t n = get_u32(r->p);
        r->p += 4;
        if (!rb_need(r, n)) return malformed();
        const char *data = (const char *)r->p;
        r->p += n;
        if (tag == 'b') return PyBytes_FromStringAndSize(data, n);
        if (tag == 'u') return PyUnicode_DecodeUTF8(data, n, NULL);
        PyObject *s = PyUnicode_New(n, 127);
        if (s == NULL) return NULL;
        for (Py_ssize_t i = 0; i < n; i++)
            if ((unsigned char)data[i] > 127) {
                Py_DECREF(s);
                return malformed();
            }
        memcpy(PyUnicode_DATA(s), data, n);
        return s;
    }
    case 'i': {
        if (!rb_need(r, 8)) return malformed();
        int64_t x = get_i64(r->p);
        r->p += 8;
        return PyLong_FromLongLong(x);
    }
    case 'f': {
        if (!rb_need(r, 8)) return malformed();
        double d;
        memcpy(&d, r->p, 8);
        r->p += 8;
        return PyFloat_FromDouble(d);
    }
    case 'N':
        Py_RETURN_NONE;
    case 'T':
        Py_RETURN_TRUE;
    case 'F':
        Py_RETURN_FALSE;
    case '(': {
        if (depth >= MAX_DEPTH || !rb_need(r, 4)) return malformed();
        Py_ssize_t n = get_u32(r->p);
        r->p += 4;
        if (!rb_need(r, n)) return malformed(); /* every item takes at least one byte */
        PyObject *t = PyTuple_New(n);
        if (t == NULL) return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = dec_value(r, depth + 1);
            if (item == NULL) {
                Py_DECREF(t);
                return NULL;
            }
            PyTuple_SET_ITEM(t, i, item);
        }
        return t;
    }
    default:
        return malformed();
    }
}

static PyObject *py_decode_batch(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    rbuf r = {(const unsigned char *)view.buf, (const unsigned char *)view.buf + view.len};
    PyObject *values = NULL, *timestamps = NULL, *result = NULL;
    if (!rb_need(&r, 7) || r.p[0] != 'Y' || r.p[1] != CODEC_VERSION) {
        malformed();
        goto done;
    }
    Py_ssize_t count = get_u32(r.p + 2);
    int has_ts = r.p[6];
    r.p += 7;
    if (!rb_need(&r, count * (has_ts ? 9 : 1))) {
        malformed();
        goto done;
    }
    if (has_ts) {
        timestamps = PyList_New(count);
        if (timestamps == NULL) goto done;
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *t = PyLong_FromLongLong(get_i64(r.p));
            if (t == NULL) goto done;
            PyList_SET_ITEM(timestamps, i, t);
            r.p += 8;
        }
    } else {
        timestamps = Py_None;
        Py_INCREF(Py_None);
    }
    values = PyList_New(count);
    if (values == NULL) goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *v = dec_value(&r, 0);
        if (v == NULL) goto done;
        PyList_SET_ITEM(values, i, v);
    }
    if (r.p != r.end) {
        malformed();
        goto done;
    }
    result = PyTuple_Pack(2, values, timestamps);
done:
    Py_XDECREF(values);
    Py_XDECREF(timestamps);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"stable_hash", py_stable_hash, METH_O, "stable_hash(key) -> int: yflink.state.key_groups.stable_hash in C."},
    {"set_fallback", py_set_fallback, METH_O, "set_fallback(fn): the stable_hash used for other key types."},
    {"route_key_groups", py_route_key_groups, METH_VARARGS,
     "route_key_groups(values, key_fn, num_channels, max_parallelism, timestamps=None, field=-1) -> (buckets, ts_buckets)"},
    {"encode_batch", py_encode_batch, METH_VARARGS,
     "encode_batch(values, timestamps) -> bytes | None: a batch of built-in values, or None if unsupported."},
    {"decode_batch", py_decode_batch, METH_O, "decode_batch(payload) -> (values, timestamps)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "yflink._speedups",
                                    "The keyed shuffle's routing in C (optional; see the source).", -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    crc_init();
    return PyModule_Create(&module);
}
