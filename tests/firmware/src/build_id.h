#ifndef DRE_BUILD_ID_H
#define DRE_BUILD_ID_H

#include <stdint.h>

/* The SDK's sMemfaultBuildIdStorage (components/core/src/memfault_build_id_private.h). */
struct memfault_build_id_storage {
    uint8_t type;      /* 2 = GNU build id */
    uint8_t len;       /* bytes of the id: 20 */
    uint8_t short_len; /* bytes sent in events */
    uint8_t rsvd;
    const void *storage; /* the whole NT_GNU_BUILD_ID note */
    uint8_t sdk_version[2];
};

extern const struct memfault_build_id_storage g_memfault_build_id;

#endif
