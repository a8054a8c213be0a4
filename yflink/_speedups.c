/* yflink._speedups: the keyed shuffle's per-record routing in C.
 *
 * Optional: yflink/graph/partitioners.py and yflink/state/key_groups.py fall back to their pure-Python code when
 * this extension was not built (no C compiler at install time). Both must agree bit for bit: the hash decides which
 * subtask owns a key, and tests/unit/test_speedups.py compares them on many keys.
 *
 *   stable_hash(key) -> int
 *       yflink.state.key_groups.stable_hash for str, int, bool, bytes, bytearray, float, None and tuples of those;
 *       any other key (subclasses included) goes to the Python fallback given to set_fallback().
 *   route_key_groups(values, key_fn, num_channels, max_parallelism, timestamps=None) -> (buckets, ts_buckets)
 *       For each value: key = key_fn(value); key group = murmur(stable_hash(key)) % max_parallelism (Flink
 *       KeyGroupRangeAssignment.assignToKeyGroup); channel = key_group * num_channels // max_parallelism
 *       (computeOperatorIndexForKeyGroup). buckets[c] lists the values of channel c in input order; ts_buckets is
 *       None without timestamps, else their timestamps likewise. Raises what key_fn raises, and TypeError for a
 *       key that is not hashable (as a key of keyed state must be).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *fallback_hash = NULL; /* yflink.state.key_groups._stable_hash_py */

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

/* zlib.crc32(data) */
static uint32_t crc32_of(const unsigned char *p, Py_ssize_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (Py_ssize_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t hash_u64(uint64_t v) { return (uint32_t)((v ^ (v >> 32)) & 0xFFFFFFFFu); }

/* 0 on success with *out set; -1 with an exception set. */
static int stable_hash_of(PyObject *key, uint32_t *out, int check_hashable) {
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
    } else if (PyTuple_CheckExact(key)) {
        uint32_t result = 1;
        Py_ssize_t n = PyTuple_GET_SIZE(key);
        for (Py_ssize_t i = 0; i < n; i++) {
            uint32_t item;
            if (stable_hash_of(PyTuple_GET_ITEM(key, i), &item, check_hashable) < 0) return -1;
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

/* Flink MathUtils.murmurHash(int): non-negative. */
static int64_t murmur(uint32_t code) {
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
    if (s >= 0) return s;
    if (s != INT32_MIN) return -(int64_t)s;
    return 0;
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

static PyObject *new_buckets(Py_ssize_t n) {
    PyObject *buckets = PyList_New(n);
    if (buckets == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = PyList_New(0);
        if (b == NULL) {
            Py_DECREF(buckets);
            return NULL;
        }
        PyList_SET_ITEM(buckets, i, b);
    }
    return buckets;
}

static PyObject *py_route_key_groups(PyObject *self, PyObject *args) {
    PyObject *values, *key_fn, *timestamps = Py_None;
    Py_ssize_t n, max_par;
    if (!PyArg_ParseTuple(args, "O!Onn|O:route_key_groups", &PyList_Type, &values, &key_fn, &n, &max_par,
                          &timestamps))
        return NULL;
    if (n < 1 || max_par < n) {
        PyErr_Format(PyExc_ValueError, "route_key_groups: need 1 <= num_channels (%zd) <= max_parallelism (%zd)",
                     n, max_par);
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(values);
    if (timestamps != Py_None && (!PyList_Check(timestamps) || PyList_GET_SIZE(timestamps) != count)) {
        PyErr_SetString(PyExc_ValueError, "route_key_groups: timestamps must be None or a list as long as values");
        return NULL;
    }
    PyObject *buckets = new_buckets(n);
    if (buckets == NULL) return NULL;
    PyObject *ts_buckets = Py_None;
    Py_INCREF(Py_None);
    if (timestamps != Py_None) {
        Py_DECREF(Py_None);
        ts_buckets = new_buckets(n);
        if (ts_buckets == NULL) {
            Py_DECREF(buckets);
            return NULL;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        Py_INCREF(value);
        PyObject *key = PyObject_CallOneArg(key_fn, value);
        if (key == NULL) {
            Py_DECREF(value);
            goto error;
        }
        uint32_t h;
        int rc = stable_hash_of(key, &h, 1);
        Py_DECREF(key);
        if (rc < 0) {
            Py_DECREF(value);
            goto error;
        }
        Py_ssize_t channel = (Py_ssize_t)((murmur(h) % max_par) * n / max_par);
        rc = PyList_Append(PyList_GET_ITEM(buckets, channel), value);
        Py_DECREF(value);
        if (rc < 0) goto error;
        if (ts_buckets != Py_None) {
            if (i >= PyList_GET_SIZE(timestamps)) {
                PyErr_SetString(PyExc_RuntimeError, "route_key_groups: timestamps changed while routing");
                goto error;
            }
            if (PyList_Append(PyList_GET_ITEM(ts_buckets, channel), PyList_GET_ITEM(timestamps, i)) < 0) goto error;
        }
    }
    return Py_BuildValue("(NN)", buckets, ts_buckets);
error:
    Py_DECREF(buckets);
    Py_DECREF(ts_buckets);
    return NULL;
}

static PyMethodDef methods[] = {
    {"stable_hash", py_stable_hash, METH_O, "stable_hash(key) -> int: yflink.state.key_groups.stable_hash in C."},
    {"set_fallback", py_set_fallback, METH_O, "set_fallback(fn): the stable_hash used for other key types."},
    {"route_key_groups", py_route_key_groups, METH_VARARGS,
     "route_key_groups(values, key_fn, num_channels, max_parallelism, timestamps=None) -> (buckets, ts_buckets)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "yflink._speedups",
                                    "The keyed shuffle's routing in C (optional; see the source).", -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    crc_init();
    return PyModule_Create(&module);
}
