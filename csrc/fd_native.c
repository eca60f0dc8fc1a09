/* fastdicom: checks of native pixel samples (see fd_native.h). */
#include "fd_native.h"

/* Samples per block between early-exit tests: small enough to stop soon,
 * large enough for the inner loop to run vectorised. */
#define FD_FITS_BLOCK 8192u

/* ifunc (glibc on Linux) picks the clone; elsewhere one portable build */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(FD_NO_CLONES)
/* AVX2 where the CPU has it, chosen once at load time (ifunc) */
#define FD_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef FD_CLONES
#define FD_CLONES
#endif

/* The largest (sample - lo) modulo 2^w over each block: a sample is in
 * [lo, hi] exactly when that difference is at most hi - lo. */
#define FD_FITS_FN(name, UT)                                                  \
    FD_CLONES static int name(const UT *p, size_t n, UT lo, UT span)          \
    {                                                                         \
        size_t i = 0;                                                         \
        while (i < n) {                                                       \
            size_t end = n - i > FD_FITS_BLOCK ? i + FD_FITS_BLOCK : n;       \
            UT worst = 0;                                                     \
            for (; i < end; i++) {                                            \
                UT d = (UT)(p[i] - lo);                                       \
                worst = d > worst ? d : worst;                                \
            }                                                                 \
            if (worst > span)                                                 \
                return 0;                                                     \
        }                                                                     \
        return 1;                                                             \
    }

FD_FITS_FN(fits8, uint8_t)
FD_FITS_FN(fits16, uint16_t)
FD_FITS_FN(fits32, uint32_t)
FD_FITS_FN(fits64, uint64_t)

int fd_native_fits(const void *data, size_t n, int width, int64_t lo, int64_t hi)
{
    uint64_t ulo = (uint64_t)lo, span = (uint64_t)hi - (uint64_t)lo;

    if (lo > hi || (n && !data))
        return -1;
    switch (width) {
    case 1:
        if (lo < INT8_MIN || hi > UINT8_MAX || span > UINT8_MAX)
            return -1;
        return fits8((const uint8_t *)data, n, (uint8_t)ulo, (uint8_t)span);
    case 2:
        if (lo < INT16_MIN || hi > UINT16_MAX || span > UINT16_MAX)
            return -1;
        return fits16((const uint16_t *)data, n, (uint16_t)ulo, (uint16_t)span);
    case 4:
        if (lo < INT32_MIN || hi > (int64_t)UINT32_MAX || span > UINT32_MAX)
            return -1;
        return fits32((const uint32_t *)data, n, (uint32_t)ulo, (uint32_t)span);
    case 8:
        return fits64((const uint64_t *)data, n, ulo, span);
    default:
        return -1;
    }
}
