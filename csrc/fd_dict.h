/* fastdicom: tag -> VR dictionary used by the tokenizer for implicit VR data. */
#ifndef FD_DICT_H
#define FD_DICT_H
#include <stdint.h>

/* A VR is two ASCII characters packed big-end first: 'O','B' -> 0x4F42.
   Lower-case pseudo VRs from the dictionary mark context-dependent VRs:
   "xs" (US or SS), "ox" (OB or OW), "px" (pixel data, OB or OW),
   "lt" (US, SS or OW), "up" (UL offset), "na" (item/delimiter). */
#define FD_VR(a, b) ((uint16_t)(((uint16_t)(uint8_t)(a) << 8) | (uint16_t)(uint8_t)(b)))

typedef struct { uint32_t tag; uint16_t vr; } fd_dict_entry;
typedef struct { uint32_t mask, value; uint16_t vr; } fd_dict_range;

extern const uint32_t fd_dict_n_tags;
extern const fd_dict_entry fd_dict_tags[];
extern const uint32_t fd_dict_n_ranges;
extern const fd_dict_range fd_dict_ranges[];

/* VR of a public tag, or 0 when the dictionary does not know it.
   Group lengths (gggg,0000) give UL and private creators (odd gggg,0010-00FF) LO. */
uint16_t fd_dict_vr(uint32_t tag);

#endif
