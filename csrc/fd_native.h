/* fastdicom: checks of native (uncompressed) pixel samples.
 *
 * Pure C99: no Python API, no I/O, no allocation.
 *
 * With Bits Stored below Bits Allocated, pydicom masks unsigned samples and
 * sign-extends signed ones to Bits Stored. Samples nearly always already are
 * what that gives (the unused high bits are zero, or copies of the sign bit),
 * and then the array needs no change: fd_native_fits says whether every
 * sample lies in [lo, hi] in one pass, so the conversion runs only when it
 * changes something.
 */
#ifndef FD_NATIVE_H
#define FD_NATIVE_H
#include <stddef.h>
#include <stdint.h>

/* Whether each of the n samples of width bytes (1, 2, 4 or 8; native byte
 * order) at data lies in [lo, hi] (lo <= hi, both representable in that
 * width, as signed or unsigned: the test is done modulo 2^(8 * width), so one
 * function serves signed and unsigned samples). 1: all do, 0: one does not,
 * -1: bad arguments. Stops at the first block holding a sample outside. */
int fd_native_fits(const void *data, size_t n, int width, int64_t lo, int64_t hi);

#endif
