# Declarations of the C tokenizer (csrc/fd_tokenizer.h).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t

cdef extern from "fd_tokenizer.h" nogil:
    ctypedef struct fd_record:
        uint64_t header_offset
        uint64_t value_offset
        uint64_t value_length
        uint32_t tag
        uint32_t raw_length
        int32_t parent
        int32_t next
        char vr[2]
        uint16_t flags
        uint16_t depth
        uint16_t reserved

    ctypedef enum fd_status:
        FD_OK
        FD_ERR_TRUNCATED
        FD_ERR_LENGTH
        FD_ERR_DEPTH
        FD_ERR_NOMEM
        FD_ERR_UNEXPECTED_TAG
        FD_ERR_DELIMITER
        FD_ERR_TOO_MANY
        FD_ERR_UNDEFINED_ITEM
        FD_ERR_ARGUMENT

    ctypedef struct fd_options:
        int explicit_vr
        int little_endian
        int stop_before_pixels
        int detect_vr
        uint32_t stop_after_tag
        int32_t only_group
        uint32_t max_depth
        uint64_t max_records
        uint64_t total_len

    ctypedef struct fd_table:
        fd_record *records
        uint64_t n
        uint64_t cap
        uint64_t end_offset
        uint64_t error_offset
        int stop_reason
        int root_explicit_vr
        uint64_t trailing

    enum:
        FD_F_UNDEFINED
        FD_F_SEQUENCE
        FD_F_ITEM
        FD_F_ITEM_DELIM
        FD_F_SEQ_DELIM
        FD_F_ENCAPSULATED
        FD_F_FRAGMENT
        FD_F_OFFSET_TABLE
        FD_F_IMPLICIT
        FD_F_BIG_ENDIAN
        FD_F_VR_DICT
        FD_F_VR_UNKNOWN
        FD_F_UN_SEQUENCE
        FD_F_OUTSIDE
        FD_STOP_NONE
        FD_STOP_PIXELS
        FD_STOP_AFTER_TAG
        FD_STOP_GROUP

    void fd_options_init(fd_options *opt)
    void fd_table_init(fd_table *t)
    void fd_table_free(fd_table *t)
    fd_status fd_tokenize(const uint8_t *buf, uint64_t len, uint64_t offset,
                          const fd_options *opt, fd_table *t)
    const char *fd_status_message(fd_status st)

cdef extern from "fd_dict.h" nogil:
    uint16_t fd_dict_vr(uint32_t tag)
