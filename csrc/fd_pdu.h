/* fastdicom: framing and structural checks of DICOM Upper Layer PDUs (PS3.8 9.3).
 *
 * Pure C99: no Python API, no I/O, no allocation. Every function works over a
 * caller's byte buffer and reports offsets into it. All multi-byte fields of a
 * PDU are big endian. Every declared length is checked against what remains
 * (`len > end - pos`, 64-bit) before it is used.
 *
 *  - fd_pdu_next_frame: incremental framing. Given the bytes received so far,
 *    says how many more are needed, or where the next complete PDU is. The
 *    6-byte header is checked (type, PDU-length against the limits) as soon as
 *    it is there, so nothing is buffered for a PDU that will be refused.
 *  - fd_pdata_parse: the PDV items of a P-DATA-TF PDU.
 *  - fd_pdu_walk_items / fd_assoc_walk: the items (and sub-items) of an
 *    A-ASSOCIATE-RQ/AC PDU, with bounds checks, as a flat table.
 *  - fd_pdata_measure / fd_pdata_encode: fragmentation of message payloads
 *    into PDVs, several PDVs per P-DATA-TF PDU where they fit, within the
 *    peer's maximum PDU length.
 */
#ifndef FD_PDU_H
#define FD_PDU_H
#include <stdint.h>

enum {
    FD_PDU_ASSOCIATE_RQ = 0x01,
    FD_PDU_ASSOCIATE_AC = 0x02,
    FD_PDU_ASSOCIATE_RJ = 0x03,
    FD_PDU_DATA_TF = 0x04,
    FD_PDU_RELEASE_RQ = 0x05,
    FD_PDU_RELEASE_RP = 0x06,
    FD_PDU_ABORT = 0x07
};

#define FD_PDU_HEADER_SIZE 6u       /* type, reserved, 4-byte PDU-length */
#define FD_PDU_ASSOC_FIXED 68u      /* A-ASSOCIATE-RQ/AC fields before the items */
#define FD_PDU_ITEM_HEADER_SIZE 4u  /* type, reserved, 2-byte item length */
#define FD_PDV_HEADER_SIZE 6u       /* 4-byte item length, context ID, control header */
#define FD_PDU_MAX_LENGTH 0xFFFFFFFEu /* largest PDU-length ever accepted or written */

/* Message control header bits (PS3.8 E.2) */
#define FD_PDV_COMMAND 0x01u
#define FD_PDV_LAST 0x02u

typedef enum {
    FD_PDU_OK = 0,
    FD_PDU_NEED_MORE = 1,        /* not an error: the PDU is not complete yet */
    FD_PDU_ERR_TYPE = 2,         /* unknown PDU type */
    FD_PDU_ERR_TOO_LONG = 3,     /* PDU-length above the maximum, or 0xFFFFFFFF */
    FD_PDU_ERR_PDU_LENGTH = 4,   /* PDU-length impossible for its type */
    FD_PDU_ERR_PDV_LENGTH = 5,   /* a PDV item runs past the end of its PDU */
    FD_PDU_ERR_PDV_SHORT = 6,    /* a PDV item length below 2 */
    FD_PDU_ERR_CONTEXT_ID = 7,   /* presentation context ID 0 or even */
    FD_PDU_ERR_ITEM_LENGTH = 8,  /* an item runs past the end of its PDU or parent item */
    FD_PDU_ERR_ITEM_SHORT = 9,   /* a presentation context item shorter than its 4 fixed bytes */
    FD_PDU_ERR_TOO_MANY = 10,    /* the output table is too small (*n says how many are needed) */
    FD_PDU_ERR_BUFFER = 11,      /* the output buffer is too small */
    FD_PDU_ERR_ARGUMENT = 12,    /* invalid argument (e.g. maximum below 7, bad context ID to encode) */
    FD_PDU_ERR_TRUNCATED = 13    /* the data ends inside the PDU */
} fd_pdu_status;

/* Limits on the PDU-length field of received PDUs; 0 = no limit other than
 * FD_PDU_MAX_LENGTH. A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT have a fixed
 * PDU-length of 4. */
typedef struct {
    uint32_t max_pdata;  /* P-DATA-TF: the maximum length we announced (0x51) */
    uint32_t max_assoc;  /* A-ASSOCIATE-RQ/AC */
} fd_pdu_limits;

typedef struct {
    uint64_t offset;  /* first byte of the PDU (its type) */
    uint64_t size;    /* header + PDU-length: bytes of the whole PDU */
    uint32_t length;  /* PDU-length field */
    uint8_t type;
} fd_pdu_frame;

/* One PDV of a P-DATA-TF PDU. */
typedef struct {
    uint64_t offset;     /* first data byte (after the message control header) */
    uint32_t length;     /* data bytes: item length - 2 */
    uint8_t context_id;
    uint8_t control;     /* message control header as received */
    uint16_t reserved;
} fd_pdv;

/* One item of an A-ASSOCIATE PDU. Presentation context items (0x20, 0x21)
 * contain sub-items after their 4 fixed bytes, the user information item
 * (0x50) contains sub-items; every other item is a leaf. */
typedef struct {
    uint64_t offset;        /* item type byte */
    uint64_t value_offset;  /* offset + 4 */
    uint32_t length;        /* item length field */
    int32_t parent;         /* index of the enclosing item, -1 at the top level */
    uint8_t type;
    uint8_t reserved[7];
} fd_pdu_item;

/* A payload to send: a command or data set (or a piece of one). */
typedef struct {
    const uint8_t *data;
    uint64_t length;
    uint8_t context_id;  /* odd, 1-255 */
    uint8_t control;     /* FD_PDV_COMMAND, and FD_PDV_LAST when the payload ends
                            its message: set on its final fragment only */
} fd_pdata_src;

/* Incremental framing of buf[pos:len].
 * FD_PDU_OK: *frame is the complete PDU at pos.
 * FD_PDU_NEED_MORE: *need is how many more bytes are needed at least (the
 *   exact remainder once the header is there; then *frame is filled too).
 * An error: *error_offset is where (the type byte or the PDU-length field).
 * The header is checked as soon as its bytes are there: the type from the
 * first byte, the PDU-length against the limits from the sixth. */
fd_pdu_status fd_pdu_next_frame(const uint8_t *buf, uint64_t len, uint64_t pos,
                                const fd_pdu_limits *lim, fd_pdu_frame *frame,
                                uint64_t *need, uint64_t *error_offset);

/* The PDVs of the P-DATA-TF PDU whose header is at buf[pos] (the whole PDU
 * must be in buf[0:len]). Fills pdvs[0:cap]; *n is the number of PDVs. When
 * cap is too small every PDV is still checked, *n is the total and the result
 * is FD_PDU_ERR_TOO_MANY (pdvs may be NULL with cap 0 to count). */
fd_pdu_status fd_pdata_parse(const uint8_t *buf, uint64_t len, uint64_t pos,
                             fd_pdv *pdvs, uint32_t cap, uint32_t *n,
                             uint64_t *error_offset);

/* Items in buf[begin:end] (nested as described at fd_pdu_item). Table and
 * FD_PDU_ERR_TOO_MANY as for fd_pdata_parse. */
fd_pdu_status fd_pdu_walk_items(const uint8_t *buf, uint64_t begin, uint64_t end,
                                fd_pdu_item *items, uint32_t cap, uint32_t *n,
                                uint64_t *error_offset);

/* The A-ASSOCIATE-RQ/AC PDU whose header is at buf[pos]: checks the header
 * and walks the items after the 68 fixed bytes. */
fd_pdu_status fd_assoc_walk(const uint8_t *buf, uint64_t len, uint64_t pos,
                            fd_pdu_item *items, uint32_t cap, uint32_t *n,
                            uint64_t *error_offset);

/* Bytes, PDUs and PDVs needed to send src[0:n] in P-DATA-TF PDUs of at most
 * max_pdu bytes of PDU-length (0 = FD_PDU_MAX_LENGTH; otherwise at least 7).
 * Fragments are packed: a PDU takes PDVs (of any payload, in order) while
 * another PDV with at least one data byte fits; an empty payload is one
 * empty PDV. Any of size/npdu/npdv may be NULL. */
fd_pdu_status fd_pdata_measure(const fd_pdata_src *src, uint32_t n, uint32_t max_pdu,
                               uint64_t *size, uint64_t *npdu, uint64_t *npdv);

/* Write those PDUs into out[0:out_len]; *written gets the bytes written. */
fd_pdu_status fd_pdata_encode(const fd_pdata_src *src, uint32_t n, uint32_t max_pdu,
                              uint8_t *out, uint64_t out_len, uint64_t *written);

const char *fd_pdu_status_message(fd_pdu_status st);

#endif
