/* fastdicom: RLE Lossless decoder (DICOM PS3.5 Annex G).
 *
 * Pure C99: no Python API, no I/O, no recursion, no allocation beyond a small
 * fixed scratch area on the stack. Every offset read from the data is checked
 * against the input before use; the output is written only inside dst.
 *
 * A frame is a 64-byte header (segment count, then 15 little-endian 32-bit
 * segment offsets) followed by the segments, each a PackBits byte stream of
 * one byte plane: for each sample in turn, its most significant byte first.
 * The decoded frame is written pixel-interleaved (rows x cols x samples, i.e.
 * planar configuration 0) with each sample little endian, which is the layout
 * pydicom 3 returns for RLE Lossless.
 */
#ifndef FD_RLE_H
#define FD_RLE_H
#include <stdint.h>

typedef enum {
    FD_RLE_OK = 0,
    FD_RLE_ERR_ARGUMENT = 1,        /* rows/cols/samples/bits invalid, dst size wrong */
    FD_RLE_ERR_HEADER = 2,          /* fewer than 64 bytes: no RLE header */
    FD_RLE_ERR_SEGMENT_COUNT = 3,   /* header segment count is 0 or more than 15 */
    FD_RLE_ERR_SEGMENT_MISMATCH = 4,/* segment count != samples * bytes per sample */
    FD_RLE_ERR_OFFSET = 5,          /* offset inside the header, past the data, or not increasing */
    FD_RLE_ERR_SHORT_SEGMENT = 6,   /* a segment's data ends before rows*cols bytes are decoded */
    FD_RLE_ERR_TOO_LITTLE_DATA = 7  /* the frame is too small to hold that many pixels at
                                       PackBits' best ratio (128 bytes per 2 input bytes) */
} fd_rle_status;

/* Largest PackBits expansion: a 2-byte replicate run gives 128 bytes. */
#define FD_RLE_MAX_RATIO 64u

/* Check the header of src[0:len] against the image geometry without decoding
 * (cheap): segment count, offsets, and whether the data could possibly hold
 * rows*cols*samples*bytes of output. Call it before allocating the output.
 * On error *error_offset (may be NULL) gets the byte offset where it went wrong. */
fd_rle_status fd_rle_check_frame(const uint8_t *src, uint64_t len,
                                 uint32_t rows, uint32_t cols, uint32_t samples,
                                 uint32_t bits_allocated, uint64_t *error_offset);

/* Decode one RLE frame src[0:len] into dst[0:dst_len]. dst_len must be exactly
 * rows * cols * samples * (bits_allocated / 8); bits_allocated is 8, 16, 32 or
 * 64 and samples * bits_allocated / 8 at most 15. Data past the rows*cols bytes
 * of a segment is ignored; a segment that ends early is an error. On error the
 * content of dst is unspecified. Reentrant. */
fd_rle_status fd_rle_decode_frame(const uint8_t *src, uint64_t len,
                                  uint8_t *dst, uint64_t dst_len,
                                  uint32_t rows, uint32_t cols, uint32_t samples,
                                  uint32_t bits_allocated, uint64_t *error_offset);

/* Decode one PackBits segment src[0:len] into at most dst_len bytes; returns
 * the number of bytes written (stops when dst is full or the input ends). */
uint64_t fd_rle_decode_segment(const uint8_t *src, uint64_t len, uint8_t *dst, uint64_t dst_len);

const char *fd_rle_status_message(fd_rle_status st);

#endif
