/* fastdicom: dictionary lookups over the generated tables in fd_dict_vr.c. */
#include "fd_dict.h"

uint16_t fd_dict_vr(uint32_t tag)
{
    uint32_t lo = 0, hi = fd_dict_n_tags;
    uint16_t group = (uint16_t)(tag >> 16), elem = (uint16_t)(tag & 0xFFFFu);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t t = fd_dict_tags[mid].tag;
        if (t == tag)
            return fd_dict_tags[mid].vr;
        if (t < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (elem == 0) /* group length; a private group's is not in the dictionary */
        return (group & 1u) ? 0 : FD_VR('U', 'L');
    if ((group & 1u) && elem >= 0x0010u && elem <= 0x00FFu)
        return FD_VR('L', 'O');
    if (group & 1u)
        return 0; /* private: only its creator's dictionary knows */
    for (uint32_t i = 0; i < fd_dict_n_ranges; i++) {
        if ((tag & fd_dict_ranges[i].mask) == fd_dict_ranges[i].value)
            return fd_dict_ranges[i].vr;
    }
    return 0;
}
