/* fastdicom: zero-copy tokenizer of DICOM data elements (see fd_tokenizer.h).
 *
 * The walk keeps an explicit stack of open containers (sequences, items and
 * encapsulated values). Each container knows where it must end: its own end
 * for a defined length, its parent's end for an undefined length. All offset
 * arithmetic is 64-bit and every length is checked as `len > end - pos`.
 */
#include "fd_tokenizer.h"
#include "fd_dict.h"

#include <stdlib.h>
#include <string.h>

#define FD_UNDEF_LEN 0xFFFFFFFFu
#define FD_TAG_ITEM 0xFFFEE000u
#define FD_TAG_ITEM_DELIM 0xFFFEE00Du
#define FD_TAG_SEQ_DELIM 0xFFFEE0DDu

enum { K_ROOT = 0, K_SEQ = 1, K_ITEM = 2, K_FRAGS = 3 };

typedef struct {
    uint64_t end;        /* offset this container may not pass */
    int32_t idx;         /* record of the container, -1 for the root */
    uint8_t kind;
    uint8_t undefined;   /* closed by a delimiter */
    uint8_t explicit_vr; /* encoding of the container's content */
    uint8_t little;
    uint8_t pixel;       /* encapsulated pixel data: first fragment is the offset table */
    uint8_t nfrag;       /* fragments seen (saturating) */
    uint8_t un_seq;      /* inside a UN sequence: items may be either VR encoding */
} fd_frame;

void fd_options_init(fd_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->explicit_vr = 1;
    opt->little_endian = 1;
    opt->detect_vr = 1;
    opt->stop_after_tag = 0xFFFFFFFFu;
    opt->only_group = -1;
    opt->max_depth = 64;
}

void fd_table_init(fd_table *t) { memset(t, 0, sizeof(*t)); }

void fd_table_free(fd_table *t)
{
    free(t->records);
    t->records = NULL;
    t->n = t->cap = 0;
}

const char *fd_status_message(fd_status st)
{
    switch (st) {
    case FD_OK: return "ok";
    case FD_ERR_TRUNCATED: return "data ends inside an element header or before a delimiter";
    case FD_ERR_LENGTH: return "declared length runs past the end of its container";
    case FD_ERR_DEPTH: return "sequences nested deeper than the limit";
    case FD_ERR_NOMEM: return "out of memory";
    case FD_ERR_UNEXPECTED_TAG: return "expected an item or a sequence delimiter";
    case FD_ERR_DELIMITER: return "delimiter out of place";
    case FD_ERR_TOO_MANY: return "more elements than the limit";
    case FD_ERR_UNDEFINED_ITEM: return "fragment of encapsulated data with undefined length";
    case FD_ERR_ARGUMENT: return "invalid argument";
    }
    return "unknown error";
}

static inline uint16_t rd16(const uint8_t *p, int little)
{
    return little ? (uint16_t)(p[0] | (p[1] << 8)) : (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd32(const uint8_t *p, int little)
{
    if (little)
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline int is_upper(uint8_t c) { return (uint8_t)(c - 'A') < 26u; }

static inline int vr_long(uint16_t vr)
{
    switch (vr) {
    case FD_VR('O', 'B'): case FD_VR('O', 'D'): case FD_VR('O', 'F'): case FD_VR('O', 'L'):
    case FD_VR('O', 'V'): case FD_VR('O', 'W'): case FD_VR('S', 'Q'): case FD_VR('S', 'V'):
    case FD_VR('U', 'C'): case FD_VR('U', 'N'): case FD_VR('U', 'R'): case FD_VR('U', 'T'):
    case FD_VR('U', 'V'):
        return 1;
    default:
        return 0;
    }
}

int fd_vr_has_long_length(uint16_t vr) { return vr_long(vr); }

static fd_record *grow_record(fd_table *t, const fd_options *opt, fd_status *st)
{
    if (t->n >= t->cap) {
        uint64_t cap = t->cap ? t->cap * 2 : 64;
        if (cap > (uint64_t)INT32_MAX)
            cap = (uint64_t)INT32_MAX;
        if (t->n >= cap || (opt->max_records && t->n >= opt->max_records)) {
            *st = FD_ERR_TOO_MANY;
            return NULL;
        }
        if (cap > SIZE_MAX / sizeof(fd_record)) {
            *st = FD_ERR_NOMEM;
            return NULL;
        }
        fd_record *r = (fd_record *)realloc(t->records, (size_t)cap * sizeof(fd_record));
        if (!r) {
            *st = FD_ERR_NOMEM;
            return NULL;
        }
        t->records = r;
        t->cap = cap;
    }
    if (opt->max_records && t->n >= opt->max_records) {
        *st = FD_ERR_TOO_MANY;
        return NULL;
    }
    fd_record *rec = &t->records[t->n];
    memset(rec, 0, sizeof(*rec));
    return rec;
}

/* The next record of the table (zeroed), growing it when full; NULL and *st
   set when the table cannot grow or holds max_records. */
static inline fd_record *new_record(fd_table *t, const fd_options *opt, fd_status *st)
{
    if (t->n < t->cap && !opt->max_records) {
        fd_record *rec = &t->records[t->n];
        memset(rec, 0, sizeof(*rec));
        return rec;
    }
    return grow_record(t, opt, st);
}

/* Does the first element at p (n bytes available) look explicit VR? */
static int looks_explicit(const uint8_t *p, uint64_t n)
{
    if (n < 6)
        return -1;
    return is_upper(p[4]) && is_upper(p[5]);
}

static void set_vr(fd_record *rec, uint16_t vr)
{
    rec->vr[0] = (char)(vr >> 8);
    rec->vr[1] = (char)(vr & 0xFF);
}

fd_status fd_tokenize(const uint8_t *buf, uint64_t len, uint64_t offset,
                      const fd_options *opt, fd_table *t)
{
    fd_status st = FD_OK;
    fd_frame *stack = NULL;
    uint32_t sp = 0; /* index of the top frame */
    uint64_t pos = offset;
    uint32_t max_frames;

    if (!t || !opt || (!buf && len) || offset > len || opt->max_depth > 0x7FFFu)
        return FD_ERR_ARGUMENT;
    t->n = 0;
    t->stop_reason = FD_STOP_NONE;
    t->trailing = 0;
    t->error_offset = 0;
    /* a sequence level takes two frames (the sequence and its item); each
       frame needs at least 8 bytes of input, so small inputs get small stacks */
    max_frames = 2u * opt->max_depth + 2u;
    if ((len - offset) / 8 + 2 < max_frames)
        max_frames = (uint32_t)((len - offset) / 8 + 2);
    stack = (fd_frame *)malloc(sizeof(fd_frame) * max_frames);
    if (!stack)
        return FD_ERR_NOMEM;
    /* a first guess from the input size, so small inputs allocate little */
    if (!t->records) {
        /* most bytes of a file are pixel data: guess low, grow by doubling;
           a small input (a header read alone) is mostly elements; the File
           Meta Information group has a handful */
        uint64_t avail = len - offset;
        uint64_t guess = avail <= 65536 ? avail / 20 + 16 : avail / 256 + 16;
        if (opt->only_group >= 0 && guess > 32)
            guess = 32;
        if (guess > 4096)
            guess = 4096;
        t->records = (fd_record *)malloc((size_t)guess * sizeof(fd_record));
        if (!t->records) {
            free(stack);
            return FD_ERR_NOMEM;
        }
        t->cap = guess;
    }

    stack[0].end = len;
    stack[0].idx = -1;
    stack[0].kind = K_ROOT;
    stack[0].undefined = 0;
    stack[0].little = opt->little_endian ? 1 : 0;
    stack[0].explicit_vr = opt->explicit_vr ? 1 : 0;
    stack[0].pixel = 0;
    stack[0].nfrag = 0;
    stack[0].un_seq = 0;
    if (opt->detect_vr) {
        int e = looks_explicit(buf + pos, len - pos);
        if (e >= 0)
            stack[0].explicit_vr = (uint8_t)e;
    }
    t->root_explicit_vr = stack[0].explicit_vr;
    /* options read once: the stores into records below may alias them */
    const int stop_pixels = opt->stop_before_pixels;
    const uint32_t stop_after = opt->stop_after_tag;
    const int32_t only_group = opt->only_group;
    const uint64_t total = opt->total_len > len ? opt->total_len : 0;

    for (;;) {
        fd_frame *f = &stack[sp];
        uint64_t end = f->end;
        const uint8_t kind = f->kind, little = f->little, frame_explicit = f->explicit_vr;
        uint64_t remain;
        uint32_t tag, vl;
        uint16_t group, elem;
        fd_record *rec;

        if (pos == end) {
            if (f->kind == K_ROOT)
                break;
            if (f->undefined) {
                st = FD_ERR_TRUNCATED; /* delimiter missing */
                goto fail;
            }
            t->records[f->idx].next = (int32_t)t->n;
            sp--;
            continue;
        }
        remain = end - pos;
        if (remain < 8) {
            if (f->kind == K_ROOT) {
                t->trailing = remain; /* too short to be an element: not consumed */
                break;
            }
            st = FD_ERR_TRUNCATED;
            goto fail;
        }
        group = rd16(buf + pos, little);
        elem = rd16(buf + pos + 2, little);
        tag = ((uint32_t)group << 16) | elem;

        if (group == 0xFFFEu) {
            vl = rd32(buf + pos + 4, f->little);
            rec = new_record(t, opt, &st);
            if (!rec)
                goto fail;
            rec->header_offset = pos;
            rec->value_offset = pos + 8;
            rec->tag = tag;
            rec->raw_length = vl;
            rec->parent = f->idx;
            rec->depth = (uint16_t)sp;
            rec->next = (int32_t)(t->n + 1);
            if (!f->little)
                rec->flags |= FD_F_BIG_ENDIAN;
            if (tag == FD_TAG_ITEM && f->kind == K_SEQ) {
                fd_frame *nf;
                rec->flags |= FD_F_ITEM;
                if (sp + 1 >= max_frames) {
                    st = FD_ERR_DEPTH;
                    goto fail;
                }
                nf = &stack[sp + 1];
                *nf = *f;
                nf->kind = K_ITEM;
                nf->idx = (int32_t)t->n;
                if (vl == FD_UNDEF_LEN) {
                    rec->flags |= FD_F_UNDEFINED;
                    nf->undefined = 1;
                    nf->end = end;
                } else {
                    if (vl > remain - 8) {
                        st = FD_ERR_LENGTH;
                        goto fail;
                    }
                    rec->value_length = vl;
                    nf->undefined = 0;
                    nf->end = pos + 8 + vl;
                }
                if (opt->detect_vr && (nf->explicit_vr || f->un_seq)) {
                    /* PS3.5 6.2.2: data inside UN is implicit VR LE, and data
                       inside any item may be found implicit: follow the data.
                       Items of a UN sequence written explicit are read so too. */
                    int e = looks_explicit(buf + pos + 8, nf->end - (pos + 8));
                    if (e == 0)
                        nf->explicit_vr = 0;
                    else if (e == 1 && f->un_seq)
                        nf->explicit_vr = 1;
                }
                t->n++;
                pos += 8;
                sp++;
                continue;
            }
            if (tag == FD_TAG_ITEM && f->kind == K_FRAGS) {
                rec->flags |= FD_F_FRAGMENT;
                if (f->pixel && f->nfrag == 0)
                    rec->flags |= FD_F_OFFSET_TABLE;
                if (f->nfrag < 255)
                    f->nfrag++;
                if (vl == FD_UNDEF_LEN) {
                    st = FD_ERR_UNDEFINED_ITEM;
                    goto fail;
                }
                if (vl > remain - 8) {
                    st = FD_ERR_LENGTH;
                    goto fail;
                }
                rec->value_length = vl;
                t->n++;
                pos += 8 + (uint64_t)vl;
                continue;
            }
            if ((tag == FD_TAG_ITEM_DELIM && f->kind == K_ITEM) ||
                (tag == FD_TAG_SEQ_DELIM && (f->kind == K_SEQ || f->kind == K_FRAGS))) {
                fd_record *crec = &t->records[f->idx];
                rec->flags |= (tag == FD_TAG_ITEM_DELIM) ? FD_F_ITEM_DELIM : FD_F_SEQ_DELIM;
                if (vl != 0) {
                    st = FD_ERR_DELIMITER;
                    goto fail;
                }
                /* A delimiter may also close a defined-length container, if it
                   is the last thing in it. */
                if (!f->undefined && pos + 8 != end) {
                    st = FD_ERR_DELIMITER;
                    goto fail;
                }
                if (f->undefined)
                    crec->value_length = pos - crec->value_offset;
                t->n++;
                pos += 8;
                crec->next = (int32_t)t->n;
                sp--;
                continue;
            }
            st = (tag == FD_TAG_ITEM_DELIM || tag == FD_TAG_SEQ_DELIM) ? FD_ERR_DELIMITER
                                                                       : FD_ERR_UNEXPECTED_TAG;
            goto fail;
        }
        if (kind == K_SEQ || kind == K_FRAGS) {
            st = FD_ERR_UNEXPECTED_TAG;
            goto fail;
        }

        /* A data element in the root dataset or in an item. */
        {
            uint16_t vr;
            uint64_t hlen = 8;
            uint16_t flags = little ? 0 : FD_F_BIG_ENDIAN;
            int explicit_here = frame_explicit & is_upper(buf[pos + 4]) & is_upper(buf[pos + 5]);

            if (kind == K_ROOT) {
                if (stop_pixels &&
                    (tag == 0x7FE00010u || tag == 0x7FE00008u || tag == 0x7FE00009u)) {
                    t->stop_reason = FD_STOP_PIXELS;
                    break;
                }
                if (tag > stop_after) {
                    t->stop_reason = FD_STOP_AFTER_TAG;
                    break;
                }
                if (only_group >= 0 && group != (uint32_t)only_group) {
                    t->stop_reason = FD_STOP_GROUP;
                    break;
                }
            }
            if (explicit_here) {
                vr = FD_VR(buf[pos + 4], buf[pos + 5]);
                if (vr_long(vr)) {
                    if (remain < 12) {
                        st = FD_ERR_TRUNCATED;
                        goto fail;
                    }
                    vl = rd32(buf + pos + 8, little);
                    hlen = 12;
                } else {
                    vl = rd16(buf + pos + 6, little);
                }
            } else {
                /* implicit VR, or a non-letter VR in explicit data (read as implicit) */
                vl = rd32(buf + pos + 4, little);
                vr = fd_dict_vr(tag);
                flags |= FD_F_IMPLICIT | FD_F_VR_DICT;
                if (!vr) {
                    flags |= FD_F_VR_UNKNOWN;
                    vr = FD_VR('U', 'N');
                }
            }
            rec = new_record(t, opt, &st);
            if (!rec)
                goto fail;
            rec->header_offset = pos;
            rec->value_offset = pos + hlen;
            rec->tag = tag;
            rec->raw_length = vl;
            rec->parent = f->idx;
            rec->depth = (uint16_t)sp;
            rec->next = (int32_t)(t->n + 1);
            set_vr(rec, vr);

            if (vl == FD_UNDEF_LEN && total && kind == K_ROOT &&
                (tag == 0x7FE00010u || tag == 0x7FE00008u || tag == 0x7FE00009u)) {
                /* encapsulated pixel data of a file read in part: not walked here */
                t->stop_reason = FD_STOP_PIXELS;
                break;
            }
            if (vl == FD_UNDEF_LEN) {
                fd_frame *nf;
                int is_sq = vr == FD_VR('S', 'Q');
                flags |= FD_F_UNDEFINED;
                if (!is_sq && vr == FD_VR('U', 'N') && !(flags & FD_F_VR_UNKNOWN)) {
                    /* PS3.5 6.2.2: undefined-length UN is an implicit VR LE sequence */
                    is_sq = 1;
                    flags |= FD_F_UN_SEQUENCE;
                } else if (!is_sq && (flags & FD_F_VR_UNKNOWN)) {
                    /* unknown tag in implicit VR: a sequence if items follow */
                    uint64_t p2 = pos + hlen;
                    if (end - p2 >= 4 && rd16(buf + p2, f->little) == 0xFFFEu &&
                        rd16(buf + p2 + 2, f->little) == 0xE000u)
                        is_sq = 1;
                }
                if (sp + 1 >= max_frames) {
                    st = FD_ERR_DEPTH;
                    goto fail;
                }
                nf = &stack[sp + 1];
                *nf = *f;
                nf->idx = (int32_t)t->n;
                nf->end = end;
                nf->undefined = 1;
                nf->nfrag = 0;
                if (is_sq) {
                    flags |= FD_F_SEQUENCE;
                    nf->kind = K_SEQ;
                    if (flags & FD_F_UN_SEQUENCE) {
                        nf->explicit_vr = 0;
                        nf->little = 1;
                        nf->un_seq = 1;
                    } else if (flags & FD_F_IMPLICIT) {
                        nf->explicit_vr = 0;
                    }
                    nf->pixel = 0;
                } else {
                    flags |= FD_F_ENCAPSULATED;
                    nf->kind = K_FRAGS;
                    nf->pixel = (tag == 0x7FE00010u) ? 1 : 0;
                }
                rec->flags = flags;
                t->n++;
                pos += hlen;
                sp++;
                continue;
            }
            if (hlen > remain || vl > remain - hlen) {
                if (total && kind == K_ROOT && hlen <= remain && vr != FD_VR('S', 'Q') &&
                    (tag == 0x7FE00010u || tag == 0x7FE00008u || tag == 0x7FE00009u)) {
                    /* the value lies (in part) past the buffer: pos + hlen <= len < total */
                    if ((uint64_t)vl == total - (pos + hlen)) {
                        rec->value_length = vl;
                        rec->flags = flags | FD_F_OUTSIDE;
                        t->n++;
                        pos = total;
                    } else {
                        t->stop_reason = FD_STOP_PIXELS;
                    }
                    break;
                }
                st = FD_ERR_LENGTH;
                goto fail;
            }
            rec->value_length = vl;
            if (vr == FD_VR('U', 'N') && explicit_here && fd_dict_vr(tag) == FD_VR('S', 'Q')) {
                /* PS3.5 6.2.2: a sequence sent as UN is implicit VR little endian */
                flags |= FD_F_UN_SEQUENCE;
            }
            if (vr == FD_VR('S', 'Q') || (flags & FD_F_UN_SEQUENCE)) {
                fd_frame *nf;
                if (sp + 1 >= max_frames) {
                    st = FD_ERR_DEPTH;
                    goto fail;
                }
                flags |= FD_F_SEQUENCE;
                nf = &stack[sp + 1];
                *nf = *f;
                nf->kind = K_SEQ;
                nf->idx = (int32_t)t->n;
                nf->end = pos + hlen + vl;
                nf->undefined = 0;
                nf->pixel = 0;
                nf->nfrag = 0;
                if (flags & FD_F_UN_SEQUENCE) {
                    nf->explicit_vr = 0;
                    nf->little = 1;
                    nf->un_seq = 1;
                } else if (flags & FD_F_IMPLICIT) {
                    nf->explicit_vr = 0;
                }
                rec->flags = flags;
                t->n++;
                pos += hlen;
                sp++;
                continue;
            }
            rec->flags = flags;
            t->n++;
            pos += hlen + vl;
        }
    }
    free(stack);
    t->end_offset = pos;
    return FD_OK;

fail:
    /* close what is open so that the records stay consistent */
    while (sp > 0) {
        if (stack[sp].idx >= 0)
            t->records[stack[sp].idx].next = (int32_t)t->n;
        sp--;
    }
    free(stack);
    t->error_offset = pos;
    t->end_offset = pos;
    return st;
}
