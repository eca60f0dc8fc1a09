/* fastdicom: zero-copy tokenizer of DICOM data elements.
 *
 * Pure C99: no Python API, no I/O, no recursion. It walks a buffer and fills a
 * flat table of records, one per data element, item, fragment and delimiter.
 * Every declared length is checked against what remains before it is used.
 */
#ifndef FD_TOKENIZER_H
#define FD_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>

/* Record flags */
enum {
    FD_F_UNDEFINED   = 1u << 0,  /* declared length 0xFFFFFFFF */
    FD_F_SEQUENCE    = 1u << 1,  /* value is a sequence of items */
    FD_F_ITEM        = 1u << 2,  /* (FFFE,E000) item of a sequence */
    FD_F_ITEM_DELIM  = 1u << 3,  /* (FFFE,E00D) */
    FD_F_SEQ_DELIM   = 1u << 4,  /* (FFFE,E0DD) */
    FD_F_ENCAPSULATED= 1u << 5,  /* undefined-length non-SQ value made of fragments */
    FD_F_FRAGMENT    = 1u << 6,  /* an item of encapsulated data */
    FD_F_OFFSET_TABLE= 1u << 7,  /* first fragment of pixel data: Basic Offset Table */
    FD_F_IMPLICIT    = 1u << 8,  /* element encoded with implicit VR */
    FD_F_BIG_ENDIAN  = 1u << 9,  /* element encoded big endian */
    FD_F_VR_DICT     = 1u << 10, /* VR came from the dictionary, not the data */
    FD_F_VR_UNKNOWN  = 1u << 11, /* implicit VR and the dictionary does not know the tag */
    FD_F_UN_SEQUENCE = 1u << 12, /* undefined-length UN read as implicit VR LE SQ */
    FD_F_OUTSIDE     = 1u << 13  /* value runs past the buffer, up to total_len (see fd_options) */
};

/* One record: 48 bytes, layout mirrored by the numpy dtype in _core.pyx. */
typedef struct {
    uint64_t header_offset;   /* offset of the tag */
    uint64_t value_offset;    /* offset of the first value byte */
    uint64_t value_length;    /* bytes of value (undefined: up to the delimiter) */
    uint32_t tag;             /* group << 16 | element */
    uint32_t raw_length;      /* length as declared (0xFFFFFFFF undefined) */
    int32_t  parent;          /* index of enclosing item or sequence, -1 at top */
    int32_t  next;            /* index of the first record after this subtree */
    char     vr[2];           /* explicit VR, dictionary VR, or "\0\0" */
    uint16_t flags;
    uint16_t depth;           /* number of enclosing sequences and items */
    uint16_t reserved;
} fd_record;

typedef enum {
    FD_OK = 0,
    FD_ERR_TRUNCATED = 1,        /* input ends inside a header or before a delimiter */
    FD_ERR_LENGTH = 2,           /* a declared length runs past its container */
    FD_ERR_DEPTH = 3,            /* nesting deeper than the limit */
    FD_ERR_NOMEM = 4,            /* allocation failed */
    FD_ERR_UNEXPECTED_TAG = 5,   /* not an item where an item must be */
    FD_ERR_DELIMITER = 6,        /* delimiter out of place or with a length */
    FD_ERR_TOO_MANY = 7,         /* more records than the limit */
    FD_ERR_UNDEFINED_ITEM = 8,   /* fragment with undefined length */
    FD_ERR_ARGUMENT = 9
} fd_status;

enum {
    FD_STOP_NONE = 0,
    FD_STOP_PIXELS = 1,       /* stopped before pixel data at the top level */
    FD_STOP_AFTER_TAG = 2,    /* stopped at the first top-level tag above stop_after_tag */
    FD_STOP_GROUP = 3         /* stopped at the first top-level element outside only_group */
};

typedef struct {
    int explicit_vr;          /* 1 explicit, 0 implicit */
    int little_endian;        /* 1 little, 0 big */
    int stop_before_pixels;   /* stop at (7FE0,0008/0009/0010) at the top level */
    int detect_vr;            /* check explicit/implicit on each dataset's first element
                                 (top level: both ways; items: explicit -> implicit) */
    uint32_t stop_after_tag;  /* 0xFFFFFFFF: never */
    int32_t only_group;       /* >= 0: stop at the first top-level element of another group */
    uint32_t max_depth;       /* maximum nesting of sequences (items count with them) */
    uint64_t max_records;     /* 0: bounded only by the input */
    uint64_t total_len;       /* 0, or the size of the whole data of which the buffer is the
                                 start (a file read in part). Then a top-level pixel data
                                 element (7FE0,0008/0009/0010) of defined length whose value
                                 does not fit in the buffer but ends exactly at total_len is
                                 recorded with FD_F_OUTSIDE and ends the walk at total_len;
                                 any other top-level pixel data element that does not fit
                                 stops the walk before it (FD_STOP_PIXELS). */
} fd_options;

typedef struct {
    fd_record *records;
    uint64_t n;
    uint64_t cap;
    /* results */
    uint64_t end_offset;      /* where parsing stopped */
    uint64_t error_offset;    /* where it went wrong, when status != FD_OK */
    int stop_reason;
    int root_explicit_vr;     /* encoding actually used at the top level */
    uint64_t trailing;        /* bytes left at the end too short for a header */
} fd_table;

void fd_options_init(fd_options *opt);
void fd_table_init(fd_table *t);
void fd_table_free(fd_table *t);
/* Tokenize buf[offset:len]. Returns FD_OK or an error; on error t->error_offset
   tells where, and the records before it stay valid. Reentrant. */
fd_status fd_tokenize(const uint8_t *buf, uint64_t len, uint64_t offset,
                      const fd_options *opt, fd_table *t);
const char *fd_status_message(fd_status st);
int fd_vr_has_long_length(uint16_t vr);

#endif
