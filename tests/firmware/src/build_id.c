/*
 * g_memfault_build_id, so memfault-cli and mflt_build_id find the GNU build id of this ELF
 * the way they do for SDK builds with MEMFAULT_USE_GNU_BUILD_ID. link.ld places the note in
 * flash; __build_id_note_start is its first byte.
 */
#include "build_id.h"

#define BUILD_ID_TYPE_GNU_SHA1 2u
#define BUILD_ID_LEN 20u
#define BUILD_ID_SHORT_LEN 6u

extern const uint8_t __build_id_note_start[];

const struct memfault_build_id_storage g_memfault_build_id = {
    .type = BUILD_ID_TYPE_GNU_SHA1,
    .len = BUILD_ID_LEN,
    .short_len = BUILD_ID_SHORT_LEN,
    .storage = __build_id_note_start,
};
