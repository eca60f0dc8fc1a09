/* fastdicom: dictionary lookups over the generated tables in fd_dict_vr.c. */
#include "fd_dict.h"

static int fd_parity_ok(uint16_t v, uint8_t par)
{
    return par == 2 || (v & 1u) == par;
}

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
    if (elem == 0)
        return FD_VR('U', 'L');
    if ((group & 1u) && elem >= 0x0010u && elem <= 0x00FFu)
        return FD_VR('L', 'O');
    for (uint32_t i = 0; i < fd_dict_n_ranges; i++) {
        const fd_dict_range *r = &fd_dict_ranges[i];
        if (group >= r->glo && group <= r->ghi && elem >= r->elo && elem <= r->ehi &&
            fd_parity_ok(group, r->gpar) && fd_parity_ok(elem, r->epar))
            return r->vr;
    }
    return 0;
}
