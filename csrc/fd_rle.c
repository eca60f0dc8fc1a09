/* fastdicom: RLE Lossless decoder (DICOM PS3.5 Annex G), see fd_rle.h.
 *
 * PS3.5 G.3.1: each segment is a PackBits stream. A header byte n
 *   0..127   : copy the next n + 1 bytes literally,
 *   129..255 : (-n + 1 as a signed byte) replicate the next byte 257 - n times,
 *   128      : no operation.
 * PS3.5 G.2: segments are byte planes; for each sample, the most significant
 * byte's plane comes first.
 *
 * The segments of a frame are decoded side by side in chunks of CHUNK pixels
 * into a small stack scratch area (contiguous planes, so runs are plain
 * memset/memcpy), and each chunk is then interleaved into the output. The
 * scratch stays in L1/L2 cache whatever the image size.
 *
 * Tolerances (chosen to accept what pydicom 3 accepts, see tests/test_rle.py):
 * bytes after the rows*cols bytes of a segment are ignored (encoders pad
 * segments to an even length), a literal run cut short by the end of its
 * segment copies what is there, and a replicate run with no value byte
 * produces nothing. A segment never reads into the next one. Unused header
 * offsets are not checked (the standard says they are 0; nothing reads them).
 */
#include "fd_rle.h"

#include <string.h>

#define CHUNK 2048u
#define MAX_SEGMENTS 15u
#define HEADER_LEN 64u
/* fast path margins: an op yields at most 128 bytes (+15 of block overshoot)
   and reads at most 129 (+15) */
#define FAST_OUT 144u
#define FAST_IN 145u

typedef struct {
    const uint8_t *p;   /* next input byte */
    const uint8_t *end; /* end of this segment's data */
    uint32_t run;       /* bytes left in the current run */
    uint8_t literal;    /* current run copies from p (else replicates value) */
    uint8_t value;
} seg_state;

const char *fd_rle_status_message(fd_rle_status st)
{
    switch (st) {
    case FD_RLE_OK: return "ok";
    case FD_RLE_ERR_ARGUMENT: return "invalid RLE decoding parameters (rows, columns, samples, bits allocated or output size)";
    case FD_RLE_ERR_HEADER: return "RLE frame shorter than its 64-byte header";
    case FD_RLE_ERR_SEGMENT_COUNT: return "RLE header segment count is not in 1..15";
    case FD_RLE_ERR_SEGMENT_MISMATCH: return "RLE segment count does not match samples per pixel x bytes per sample";
    case FD_RLE_ERR_OFFSET: return "RLE segment offset inside the header, past the end of the data, or not increasing";
    case FD_RLE_ERR_SHORT_SEGMENT: return "RLE segment data ends before the segment is fully decoded";
    case FD_RLE_ERR_TOO_LITTLE_DATA: return "RLE frame too short for the image size (more than 64x expansion)";
    }
    return "unknown RLE error";
}

static inline uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void set_err(uint64_t *error_offset, uint64_t off)
{
    if (error_offset)
        *error_offset = off;
}

/* Validate the header; fills starts/ends of each segment. */
static fd_rle_status parse_header(const uint8_t *src, uint64_t len, uint32_t rows, uint32_t cols,
                                  uint32_t samples, uint32_t bits_allocated,
                                  uint64_t *starts, uint64_t *ends, uint32_t *nseg_out,
                                  uint64_t *error_offset)
{
    uint32_t bps, nseg, k;
    uint64_t npix, prev, min_seg;

    set_err(error_offset, 0);
    if ((!src && len) || rows == 0 || cols == 0 || samples == 0 ||
        (bits_allocated != 8 && bits_allocated != 16 && bits_allocated != 32 && bits_allocated != 64))
        return FD_RLE_ERR_ARGUMENT;
    bps = bits_allocated / 8;
    if (samples > MAX_SEGMENTS / bps)
        return FD_RLE_ERR_ARGUMENT; /* can never match a valid segment count */
    if (len < HEADER_LEN) {
        set_err(error_offset, len);
        return FD_RLE_ERR_HEADER;
    }
    nseg = rd32le(src);
    if (nseg == 0 || nseg > MAX_SEGMENTS)
        return FD_RLE_ERR_SEGMENT_COUNT;
    if (nseg != samples * bps)
        return FD_RLE_ERR_SEGMENT_MISMATCH;
    prev = HEADER_LEN - 1;
    for (k = 0; k < nseg; k++) {
        uint64_t off = rd32le(src + 4 + 4 * k);
        if (off <= prev || off >= len) {
            set_err(error_offset, 4 + 4 * (uint64_t)k);
            return FD_RLE_ERR_OFFSET;
        }
        starts[k] = off;
        if (k)
            ends[k - 1] = off;
        prev = off;
    }
    ends[nseg - 1] = len;
    /* Each segment must yield rows*cols bytes and PackBits gives at most 128
       bytes per 2 input bytes: refuse early (before any allocation by the
       caller) what cannot be valid. */
    npix = (uint64_t)rows * cols; /* < 2^64: both factors < 2^32 */
    min_seg = 2 * (npix / 128 + (npix % 128 != 0));
    for (k = 0; k < nseg; k++) {
        if (ends[k] - starts[k] < min_seg) {
            set_err(error_offset, starts[k]);
            return FD_RLE_ERR_TOO_LITTLE_DATA;
        }
    }
    *nseg_out = nseg;
    return FD_RLE_OK;
}

fd_rle_status fd_rle_check_frame(const uint8_t *src, uint64_t len,
                                 uint32_t rows, uint32_t cols, uint32_t samples,
                                 uint32_t bits_allocated, uint64_t *error_offset)
{
    uint64_t starts[MAX_SEGMENTS], ends[MAX_SEGMENTS];
    uint32_t nseg;
    return parse_header(src, len, rows, cols, samples, bits_allocated, starts, ends, &nseg,
                        error_offset);
}

/* Produce up to n bytes of the segment into out; returns how many (fewer than
   n only when the segment's data has run out). */
static uint64_t seg_decode(seg_state *s, uint8_t *out, uint64_t n)
{
    uint64_t done = 0;
    const uint8_t *p = s->p;
    const uint8_t *end = s->end;

    /* Fast path, while a whole op cannot reach the end of the segment nor of
       the wanted output: copy in fixed 16-byte blocks (no library call per
       op, no length-dependent branches). The last block may write up to 15
       bytes past the op; they are still inside out[0:n] and the next ops
       overwrite them. Literal reads stay inside the segment. */
    if (s->run == 0) {
        while (n - done >= FAST_OUT && (uint64_t)(end - p) >= FAST_IN) {
            uint32_t h = *p++, k, cnt;
            if (h < 128) {
                cnt = h + 1;
                for (k = 0; k < cnt; k += 16)
                    memcpy(out + done + k, p + k, 16);
                p += cnt;
                done += cnt;
            } else if (h > 128) {
                uint8_t block[16];
                cnt = 257 - h;
                memset(block, *p++, 16);
                for (k = 0; k < cnt; k += 16)
                    memcpy(out + done + k, block, 16);
                done += cnt;
            }
        }
    }
    while (done < n) {
        uint32_t h;
        if (s->run) {
            uint64_t k = n - done;
            if (k > s->run)
                k = s->run;
            if (s->literal) {
                memcpy(out + done, p, (size_t)k);
                p += k;
            } else {
                memset(out + done, s->value, (size_t)k);
            }
            s->run -= (uint32_t)k;
            done += k;
            continue;
        }
        if (p == end)
            break;
        h = *p++;
        if (h < 128) {
            /* literal run of h + 1 bytes; cut short by the segment's end */
            uint64_t avail = (uint64_t)(end - p);
            uint32_t cnt = h + 1;
            if (cnt > avail)
                cnt = (uint32_t)avail;
            /* fast path: the whole run fits in what is still wanted */
            if (cnt <= n - done) {
                memcpy(out + done, p, cnt);
                p += cnt;
                done += cnt;
            } else {
                s->run = cnt;
                s->literal = 1;
            }
        } else if (h > 128) {
            uint32_t cnt = 257 - h;
            if (p == end)
                break; /* replicate run without its value byte */
            if (cnt <= n - done) {
                memset(out + done, *p, cnt);
                done += cnt;
                p++;
            } else {
                s->value = *p++;
                s->run = cnt;
                s->literal = 0;
            }
        }
        /* h == 128: no operation */
    }
    s->p = p;
    return done;
}

uint64_t fd_rle_decode_segment(const uint8_t *src, uint64_t len, uint8_t *dst, uint64_t dst_len)
{
    seg_state s;
    if (!src || !dst)
        return 0;
    s.p = src;
    s.end = src + len;
    s.run = 0;
    s.literal = 0;
    s.value = 0;
    return seg_decode(&s, dst, dst_len);
}

/* Interleave n pixels of nseg contiguous byte planes (plane stride CHUNK)
   into little-endian samples at out. */
static void interleave(const uint8_t *planes, uint8_t *out, uint64_t n,
                       uint32_t samples, uint32_t bps)
{
    uint64_t i;
    if (samples == 1 && bps == 2) {
        const uint8_t *msb = planes, *lsb = planes + CHUNK;
        for (i = 0; i < n; i++) {
            out[2 * i] = lsb[i];
            out[2 * i + 1] = msb[i];
        }
    } else if (samples == 1 && bps == 4) {
        const uint8_t *b3 = planes, *b2 = planes + CHUNK, *b1 = planes + 2 * CHUNK,
                      *b0 = planes + 3 * CHUNK;
        for (i = 0; i < n; i++) {
            out[4 * i] = b0[i];
            out[4 * i + 1] = b1[i];
            out[4 * i + 2] = b2[i];
            out[4 * i + 3] = b3[i];
        }
    } else if (samples == 3 && bps == 1) {
        const uint8_t *r = planes, *g = planes + CHUNK, *b = planes + 2 * CHUNK;
        for (i = 0; i < n; i++) {
            out[3 * i] = r[i];
            out[3 * i + 1] = g[i];
            out[3 * i + 2] = b[i];
        }
    } else {
        uint32_t stride = samples * bps, s, b;
        for (s = 0; s < samples; s++) {
            for (b = 0; b < bps; b++) {
                /* byte b (0 = least significant) of sample s: plane s*bps + bps-1-b */
                const uint8_t *pl = planes + (uint64_t)(s * bps + bps - 1 - b) * CHUNK;
                uint8_t *o = out + s * bps + b;
                for (i = 0; i < n; i++)
                    o[i * stride] = pl[i];
            }
        }
    }
}

fd_rle_status fd_rle_decode_frame(const uint8_t *src, uint64_t len,
                                  uint8_t *dst, uint64_t dst_len,
                                  uint32_t rows, uint32_t cols, uint32_t samples,
                                  uint32_t bits_allocated, uint64_t *error_offset)
{
    uint64_t starts[MAX_SEGMENTS], ends[MAX_SEGMENTS];
    seg_state seg[MAX_SEGMENTS];
    uint8_t scratch[MAX_SEGMENTS * CHUNK];
    uint32_t nseg = 0, k, bps;
    uint64_t npix, pos;
    fd_rle_status st;

    st = parse_header(src, len, rows, cols, samples, bits_allocated, starts, ends, &nseg,
                      error_offset);
    if (st != FD_RLE_OK)
        return st;
    bps = bits_allocated / 8;
    npix = (uint64_t)rows * cols;
    /* nseg <= 15, so npix * nseg only overflows for absurd sizes */
    if (!dst || npix > UINT64_MAX / nseg || dst_len != npix * nseg)
        return FD_RLE_ERR_ARGUMENT;
    for (k = 0; k < nseg; k++) {
        seg[k].p = src + starts[k];
        seg[k].end = src + ends[k];
        seg[k].run = 0;
        seg[k].literal = 0;
        seg[k].value = 0;
    }
    if (nseg == 1) {
        /* 8-bit single sample: the segment is the image */
        if (seg_decode(&seg[0], dst, npix) != npix) {
            set_err(error_offset, ends[0]);
            return FD_RLE_ERR_SHORT_SEGMENT;
        }
        return FD_RLE_OK;
    }
    for (pos = 0; pos < npix; pos += CHUNK) {
        uint64_t n = npix - pos < CHUNK ? npix - pos : CHUNK;
        for (k = 0; k < nseg; k++) {
            if (seg_decode(&seg[k], scratch + (uint64_t)k * CHUNK, n) != n) {
                set_err(error_offset, ends[k]);
                return FD_RLE_ERR_SHORT_SEGMENT;
            }
        }
        interleave(scratch, dst + pos * nseg, n, samples, bps);
    }
    return FD_RLE_OK;
}
