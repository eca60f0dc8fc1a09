/* fastdicom: framing and structural checks of DICOM Upper Layer PDUs (see fd_pdu.h).
 *
 * All offset arithmetic is 64-bit; every declared length is compared with what
 * remains of its container as `len > end - pos` (never `pos + len > end`), so
 * no sum can wrap around.
 */
#include "fd_pdu.h"

#include <string.h>

static inline uint32_t rd32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint16_t rd16be(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static inline void wr32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

const char *fd_pdu_status_message(fd_pdu_status st)
{
    switch (st) {
    case FD_PDU_OK: return "ok";
    case FD_PDU_NEED_MORE: return "more data needed";
    case FD_PDU_ERR_TYPE: return "unknown PDU type";
    case FD_PDU_ERR_TOO_LONG: return "PDU length above the maximum";
    case FD_PDU_ERR_PDU_LENGTH: return "PDU length invalid for its type";
    case FD_PDU_ERR_PDV_LENGTH: return "presentation data value item runs past the end of its PDU";
    case FD_PDU_ERR_PDV_SHORT: return "presentation data value item length below 2";
    case FD_PDU_ERR_CONTEXT_ID: return "presentation context ID is not an odd number from 1 to 255";
    case FD_PDU_ERR_ITEM_LENGTH: return "item runs past the end of its PDU or parent item";
    case FD_PDU_ERR_ITEM_SHORT: return "presentation context item shorter than its fixed fields";
    case FD_PDU_ERR_TOO_MANY: return "output table too small";
    case FD_PDU_ERR_BUFFER: return "output buffer too small";
    case FD_PDU_ERR_ARGUMENT: return "invalid argument";
    case FD_PDU_ERR_TRUNCATED: return "data ends inside the PDU";
    }
    return "unknown error";
}

static fd_pdu_status check_length(uint8_t type, uint32_t length, const fd_pdu_limits *lim)
{
    if (length > FD_PDU_MAX_LENGTH)
        return FD_PDU_ERR_TOO_LONG;
    switch (type) {
    case FD_PDU_ASSOCIATE_RQ:
    case FD_PDU_ASSOCIATE_AC:
        if (length < FD_PDU_ASSOC_FIXED)
            return FD_PDU_ERR_PDU_LENGTH;
        if (lim->max_assoc && length > lim->max_assoc)
            return FD_PDU_ERR_TOO_LONG;
        return FD_PDU_OK;
    case FD_PDU_DATA_TF:
        if (length < FD_PDV_HEADER_SIZE) /* one or more PDVs */
            return FD_PDU_ERR_PDU_LENGTH;
        if (lim->max_pdata && length > lim->max_pdata)
            return FD_PDU_ERR_TOO_LONG;
        return FD_PDU_OK;
    case FD_PDU_ASSOCIATE_RJ:
    case FD_PDU_RELEASE_RQ:
    case FD_PDU_RELEASE_RP:
    case FD_PDU_ABORT:
        return length == 4 ? FD_PDU_OK : FD_PDU_ERR_PDU_LENGTH;
    default:
        return FD_PDU_ERR_TYPE;
    }
}

fd_pdu_status fd_pdu_next_frame(const uint8_t *buf, uint64_t len, uint64_t pos,
                                const fd_pdu_limits *lim, fd_pdu_frame *frame,
                                uint64_t *need, uint64_t *error_offset)
{
    uint64_t avail;
    uint32_t length;
    uint8_t type;
    fd_pdu_status st;

    if ((!buf && len) || pos > len || !lim || !frame || !need || !error_offset)
        return FD_PDU_ERR_ARGUMENT;
    avail = len - pos;
    *need = 0;
    memset(frame, 0, sizeof(*frame));
    frame->offset = pos;
    if (avail == 0) {
        *need = FD_PDU_HEADER_SIZE;
        return FD_PDU_NEED_MORE;
    }
    type = buf[pos];
    if (type < FD_PDU_ASSOCIATE_RQ || type > FD_PDU_ABORT) {
        *error_offset = pos;
        return FD_PDU_ERR_TYPE;
    }
    frame->type = type;
    if (avail < FD_PDU_HEADER_SIZE) {
        *need = FD_PDU_HEADER_SIZE - avail;
        return FD_PDU_NEED_MORE;
    }
    length = rd32be(buf + pos + 2);
    st = check_length(type, length, lim);
    if (st != FD_PDU_OK) {
        *error_offset = pos + 2;
        return st;
    }
    frame->length = length;
    frame->size = FD_PDU_HEADER_SIZE + (uint64_t)length;
    if (frame->size > avail) {
        *need = frame->size - avail;
        return FD_PDU_NEED_MORE;
    }
    return FD_PDU_OK;
}

/* Header of a whole PDU expected at buf[pos]: type and presence of all bytes. */
static fd_pdu_status whole_pdu(const uint8_t *buf, uint64_t len, uint64_t pos,
                               uint32_t *length, uint64_t *error_offset)
{
    if (pos > len || FD_PDU_HEADER_SIZE > len - pos) {
        *error_offset = pos > len ? len : pos;
        return FD_PDU_ERR_TRUNCATED;
    }
    *length = rd32be(buf + pos + 2);
    if (*length > len - pos - FD_PDU_HEADER_SIZE) {
        *error_offset = pos + 2;
        return FD_PDU_ERR_TRUNCATED;
    }
    return FD_PDU_OK;
}

fd_pdu_status fd_pdata_parse(const uint8_t *buf, uint64_t len, uint64_t pos,
                             fd_pdv *pdvs, uint32_t cap, uint32_t *n,
                             uint64_t *error_offset)
{
    uint32_t length, count = 0;
    uint64_t p, end;
    fd_pdu_status st;

    if ((!buf && len) || !n || !error_offset || (!pdvs && cap))
        return FD_PDU_ERR_ARGUMENT;
    *n = 0;
    st = whole_pdu(buf, len, pos, &length, error_offset);
    if (st != FD_PDU_OK)
        return st;
    if (buf[pos] != FD_PDU_DATA_TF) {
        *error_offset = pos;
        return FD_PDU_ERR_TYPE;
    }
    if (length < FD_PDV_HEADER_SIZE || length > FD_PDU_MAX_LENGTH) {
        *error_offset = pos + 2;
        return FD_PDU_ERR_PDU_LENGTH;
    }
    p = pos + FD_PDU_HEADER_SIZE;
    end = p + length;
    while (p < end) {
        uint32_t il;
        uint8_t ctx;
        if (4 > end - p) {
            *error_offset = p;
            return FD_PDU_ERR_PDV_LENGTH;
        }
        il = rd32be(buf + p);
        if (il < 2) {
            *error_offset = p;
            return FD_PDU_ERR_PDV_SHORT;
        }
        if (il > end - p - 4) {
            *error_offset = p;
            return FD_PDU_ERR_PDV_LENGTH;
        }
        ctx = buf[p + 4];
        if (ctx == 0 || (ctx & 1u) == 0) {
            *error_offset = p + 4;
            return FD_PDU_ERR_CONTEXT_ID;
        }
        if (count < cap) {
            fd_pdv *v = &pdvs[count];
            v->offset = p + FD_PDV_HEADER_SIZE;
            v->length = il - 2;
            v->context_id = ctx;
            v->control = buf[p + 5];
            v->reserved = 0;
        }
        count++; /* at most length / 6 < 2^32 */
        p += 4 + (uint64_t)il;
    }
    *n = count;
    return count > cap ? FD_PDU_ERR_TOO_MANY : FD_PDU_OK;
}

static int has_sub_items(uint8_t type, uint32_t *fixed)
{
    switch (type) {
    case 0x20: /* presentation context (RQ): ID, 3 reserved, then sub-items */
    case 0x21: /* presentation context (AC): ID, reserved, result, reserved */
        *fixed = 4;
        return 1;
    case 0x50: /* user information */
        *fixed = 0;
        return 1;
    default:
        return 0;
    }
}

fd_pdu_status fd_pdu_walk_items(const uint8_t *buf, uint64_t begin, uint64_t end,
                                fd_pdu_item *items, uint32_t cap, uint32_t *n,
                                uint64_t *error_offset)
{
    uint64_t p = begin, parent_end = 0;
    int32_t parent = -1;
    uint32_t count = 0;

    if ((!buf && end) || begin > end || !n || !error_offset || (!items && cap))
        return FD_PDU_ERR_ARGUMENT;
    *n = 0;
    for (;;) {
        uint64_t limit;
        uint32_t il, fixed;
        uint8_t type;

        if (parent >= 0 && p == parent_end) {
            parent = -1;
            continue;
        }
        if (parent < 0 && p == end)
            break;
        limit = parent >= 0 ? parent_end : end;
        if (FD_PDU_ITEM_HEADER_SIZE > limit - p) {
            *error_offset = p;
            return FD_PDU_ERR_ITEM_LENGTH;
        }
        type = buf[p];
        il = rd16be(buf + p + 2);
        if (il > limit - p - FD_PDU_ITEM_HEADER_SIZE) {
            *error_offset = p + 2;
            return FD_PDU_ERR_ITEM_LENGTH;
        }
        if (count >= (uint32_t)INT32_MAX) {
            *error_offset = p;
            return FD_PDU_ERR_TOO_MANY;
        }
        if (count < cap) {
            fd_pdu_item *it = &items[count];
            memset(it, 0, sizeof(*it));
            it->offset = p;
            it->value_offset = p + FD_PDU_ITEM_HEADER_SIZE;
            it->length = il;
            it->parent = parent;
            it->type = type;
        }
        if (parent < 0 && has_sub_items(type, &fixed)) {
            if (il < fixed) {
                *error_offset = p + 2;
                return FD_PDU_ERR_ITEM_SHORT;
            }
            parent = (int32_t)count;
            parent_end = p + FD_PDU_ITEM_HEADER_SIZE + il;
            p += FD_PDU_ITEM_HEADER_SIZE + fixed;
        } else {
            p += FD_PDU_ITEM_HEADER_SIZE + (uint64_t)il;
        }
        count++;
    }
    *n = count;
    return count > cap ? FD_PDU_ERR_TOO_MANY : FD_PDU_OK;
}

fd_pdu_status fd_assoc_walk(const uint8_t *buf, uint64_t len, uint64_t pos,
                            fd_pdu_item *items, uint32_t cap, uint32_t *n,
                            uint64_t *error_offset)
{
    uint32_t length;
    fd_pdu_status st;

    if ((!buf && len) || !n || !error_offset || (!items && cap))
        return FD_PDU_ERR_ARGUMENT;
    *n = 0;
    st = whole_pdu(buf, len, pos, &length, error_offset);
    if (st != FD_PDU_OK)
        return st;
    if (buf[pos] != FD_PDU_ASSOCIATE_RQ && buf[pos] != FD_PDU_ASSOCIATE_AC) {
        *error_offset = pos;
        return FD_PDU_ERR_TYPE;
    }
    if (length < FD_PDU_ASSOC_FIXED || length > FD_PDU_MAX_LENGTH) {
        *error_offset = pos + 2;
        return FD_PDU_ERR_PDU_LENGTH;
    }
    return fd_pdu_walk_items(buf, pos + FD_PDU_HEADER_SIZE + FD_PDU_ASSOC_FIXED,
                             pos + FD_PDU_HEADER_SIZE + (uint64_t)length,
                             items, cap, n, error_offset);
}

/* ---- P-DATA-TF encoding ---------------------------------------------------- */

typedef struct {
    uint64_t max;     /* PDU-length of a full PDU */
    uint64_t room;    /* PDU-length still free in the open PDU (0: none open) */
    uint64_t done;    /* bytes of src[i] already placed */
    uint32_t i;       /* current payload */
    int started;      /* src[i] has had a fragment */
} plan_state;

typedef struct {
    uint64_t offset;  /* in the payload */
    uint64_t length;
    uint32_t src;
    uint8_t control;
    uint8_t new_pdu;  /* this PDV opens a new PDU */
} plan_frag;

static fd_pdu_status plan_init(plan_state *p, const fd_pdata_src *src, uint32_t n, uint32_t max_pdu)
{
    uint32_t i;
    if (!src && n)
        return FD_PDU_ERR_ARGUMENT;
    if (max_pdu == 0 || max_pdu > FD_PDU_MAX_LENGTH)
        max_pdu = FD_PDU_MAX_LENGTH;
    if (max_pdu < FD_PDV_HEADER_SIZE + 1)
        return FD_PDU_ERR_ARGUMENT;
    for (i = 0; i < n; i++) {
        if (src[i].context_id == 0 || (src[i].context_id & 1u) == 0)
            return FD_PDU_ERR_CONTEXT_ID;
        if ((src[i].control & ~(FD_PDV_COMMAND | FD_PDV_LAST)) || (!src[i].data && src[i].length))
            return FD_PDU_ERR_ARGUMENT;
    }
    memset(p, 0, sizeof(*p));
    p->max = max_pdu;
    return FD_PDU_OK;
}

/* The next PDV: 1, or 0 when every payload is placed. */
static int plan_next(plan_state *p, const fd_pdata_src *src, uint32_t n, plan_frag *f)
{
    while (p->i < n) {
        const fd_pdata_src *s = &src[p->i];
        uint64_t left = s->length - p->done, take;
        if (left == 0 && p->started) {
            p->i++;
            p->done = 0;
            p->started = 0;
            continue;
        }
        f->new_pdu = 0;
        /* a PDV must carry at least one byte, unless the payload is empty */
        if (p->room < FD_PDV_HEADER_SIZE + (left ? 1u : 0u)) {
            p->room = p->max;
            f->new_pdu = 1;
        }
        take = p->room - FD_PDV_HEADER_SIZE;
        if (take > left)
            take = left;
        f->src = p->i;
        f->offset = p->done;
        f->length = take;
        p->done += take;
        p->room -= FD_PDV_HEADER_SIZE + take;
        p->started = 1;
        f->control = (uint8_t)(s->control & FD_PDV_COMMAND);
        if (p->done == s->length && (s->control & FD_PDV_LAST))
            f->control |= FD_PDV_LAST;
        return 1;
    }
    return 0;
}

fd_pdu_status fd_pdata_measure(const fd_pdata_src *src, uint32_t n, uint32_t max_pdu,
                               uint64_t *size, uint64_t *npdu, uint64_t *npdv)
{
    plan_state p;
    plan_frag f;
    uint64_t total = 0, pdus = 0, pdvs = 0;
    fd_pdu_status st = plan_init(&p, src, n, max_pdu);
    if (st != FD_PDU_OK)
        return st;
    while (plan_next(&p, src, n, &f)) {
        uint64_t add = FD_PDV_HEADER_SIZE + f.length + (f.new_pdu ? FD_PDU_HEADER_SIZE : 0u);
        if (add > UINT64_MAX - total)
            return FD_PDU_ERR_ARGUMENT;
        total += add;
        pdus += f.new_pdu;
        pdvs++;
    }
    if (size)
        *size = total;
    if (npdu)
        *npdu = pdus;
    if (npdv)
        *npdv = pdvs;
    return FD_PDU_OK;
}

fd_pdu_status fd_pdata_encode(const fd_pdata_src *src, uint32_t n, uint32_t max_pdu,
                              uint8_t *out, uint64_t out_len, uint64_t *written)
{
    plan_state p;
    plan_frag f;
    uint64_t pos = 0, hdr = 0;
    int open = 0;
    fd_pdu_status st;

    if (!written || (!out && out_len))
        return FD_PDU_ERR_ARGUMENT;
    *written = 0;
    st = plan_init(&p, src, n, max_pdu);
    if (st != FD_PDU_OK)
        return st;
    while (plan_next(&p, src, n, &f)) {
        if (f.new_pdu) {
            if (open) /* PDU-length <= max <= FD_PDU_MAX_LENGTH */
                wr32be(out + hdr + 2, (uint32_t)(pos - hdr - FD_PDU_HEADER_SIZE));
            if (FD_PDU_HEADER_SIZE > out_len - pos)
                return FD_PDU_ERR_BUFFER;
            hdr = pos;
            out[pos] = FD_PDU_DATA_TF;
            out[pos + 1] = 0;
            pos += FD_PDU_HEADER_SIZE;
            open = 1;
        }
        if (f.length > out_len - pos || FD_PDV_HEADER_SIZE > out_len - pos - f.length)
            return FD_PDU_ERR_BUFFER;
        wr32be(out + pos, (uint32_t)(f.length + 2));
        out[pos + 4] = src[f.src].context_id;
        out[pos + 5] = f.control;
        pos += FD_PDV_HEADER_SIZE;
        if (f.length)
            memcpy(out + pos, src[f.src].data + f.offset, (size_t)f.length);
        pos += f.length;
    }
    if (open)
        wr32be(out + hdr + 2, (uint32_t)(pos - hdr - FD_PDU_HEADER_SIZE));
    *written = pos;
    return FD_PDU_OK;
}
