/*
 * heap_fault's heap, with the data structures a FreeRTOS heap_4 build publishes (names and
 * layout as FreeRTOS-Kernel's portable/MemMang/heap_4.c describes them: BlockLink_t, xStart,
 * pxEnd, ucHeap, the top bit of xBlockSize marking an allocated block) and the Memfault
 * SDK's heap statistics (g_memfault_heap_stats, g_memfault_heap_stats_pool; the layout in
 * memfault-elf-metadata.md, "Heap statistics"). The allocator itself is our own: first fit
 * over an address-ordered free list that merges neighbours on free.
 *
 * Everything lives in .noinit, which the coredump captures: the other diag scenarios'
 * stacks and data keep their addresses. heap_init() sets every field before use.
 */
#include "heap.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NOINIT __attribute__((section(".noinit")))
#define HEAP_SIZE 1024u
#define BYTE_ALIGNMENT_MASK 7u
#define BLOCK_ALLOCATED_BIT ((size_t)1u << 31)
#define STATS_POOL_SIZE 32u
#define STATS_LIST_END 0xFFFFu

typedef struct A_BLOCK_LINK {
    struct A_BLOCK_LINK *pxNextFreeBlock; /* the next free block, in address order */
    size_t xBlockSize;                    /* header included; top bit set when allocated */
} BlockLink_t;

typedef struct MfltHeapStatEntry {
    const void *lr; /* the allocation's caller */
    const void *ptr;
    struct {
        uint32_t size : 31;
        uint32_t in_use : 1;
    } info;
    uint16_t next_entry_index; /* the next older entry, STATS_LIST_END at the end */
} sMfltHeapStatEntry;

typedef struct MfltHeapStats {
    uint8_t version;
    uint32_t in_use_block_count;
    uint32_t max_in_use_block_count;
    uint16_t stats_pool_head; /* the newest entry */
} sMfltHeapStats;

#define HEADER_SIZE ((sizeof(BlockLink_t) + BYTE_ALIGNMENT_MASK) & ~BYTE_ALIGNMENT_MASK)
#define MINIMUM_BLOCK_SIZE (2u * HEADER_SIZE)

NOINIT static uint8_t ucHeap[HEAP_SIZE];
NOINIT static BlockLink_t xStart;
NOINIT static BlockLink_t *pxEnd;
NOINIT static size_t xFreeBytesRemaining;
NOINIT static size_t xMinimumEverFreeBytesRemaining;
NOINIT static size_t xNumberOfSuccessfulAllocations;
NOINIT static size_t xNumberOfSuccessfulFrees;
NOINIT sMfltHeapStats g_memfault_heap_stats;
NOINIT sMfltHeapStatEntry g_memfault_heap_stats_pool[STATS_POOL_SIZE];

static void heap_init(void)
{
    uintptr_t start = ((uintptr_t)ucHeap + BYTE_ALIGNMENT_MASK) & ~(uintptr_t)BYTE_ALIGNMENT_MASK;
    uintptr_t end = ((uintptr_t)ucHeap + HEAP_SIZE - HEADER_SIZE) & ~(uintptr_t)BYTE_ALIGNMENT_MASK;
    BlockLink_t *first = (BlockLink_t *)start;

    memset(ucHeap, 0, sizeof(ucHeap));
    pxEnd = (BlockLink_t *)end;
    pxEnd->xBlockSize = 0u;
    pxEnd->pxNextFreeBlock = NULL;
    first->xBlockSize = end - start;
    first->pxNextFreeBlock = pxEnd;
    xStart.pxNextFreeBlock = first;
    xStart.xBlockSize = 0u;
    xFreeBytesRemaining = xMinimumEverFreeBytesRemaining = first->xBlockSize;
    xNumberOfSuccessfulAllocations = xNumberOfSuccessfulFrees = 0u;
    memset(&g_memfault_heap_stats, 0, sizeof(g_memfault_heap_stats));
    memset(g_memfault_heap_stats_pool, 0, sizeof(g_memfault_heap_stats_pool));
    g_memfault_heap_stats.version = 2u;
    g_memfault_heap_stats.stats_pool_head = STATS_LIST_END;
}

/* Insert in address order; merge with the free block before and after when adjacent. */
static void insert_free_block(BlockLink_t *block)
{
    BlockLink_t *before = &xStart;

    while (before->pxNextFreeBlock < block) {
        before = before->pxNextFreeBlock;
    }
    if (before != &xStart && (uint8_t *)before + before->xBlockSize == (uint8_t *)block) {
        before->xBlockSize += block->xBlockSize;
        block = before;
    }
    BlockLink_t *after = before->pxNextFreeBlock;
    if (after != pxEnd && (uint8_t *)block + block->xBlockSize == (uint8_t *)after) {
        block->xBlockSize += after->xBlockSize;
        block->pxNextFreeBlock = after->pxNextFreeBlock;
    } else if (block != after) {
        block->pxNextFreeBlock = after;
    }
    if (block != before) {
        before->pxNextFreeBlock = block;
    }
}

static void *heap_take(size_t wanted)
{
    BlockLink_t *previous = &xStart;
    BlockLink_t *block = xStart.pxNextFreeBlock;

    wanted = (wanted + HEADER_SIZE + BYTE_ALIGNMENT_MASK) & ~BYTE_ALIGNMENT_MASK;
    while (block != pxEnd && block->xBlockSize < wanted) {
        previous = block;
        block = block->pxNextFreeBlock;
    }
    if (block == pxEnd) {
        return NULL;
    }
    previous->pxNextFreeBlock = block->pxNextFreeBlock;
    if (block->xBlockSize - wanted > MINIMUM_BLOCK_SIZE) {
        BlockLink_t *rest = (BlockLink_t *)((uint8_t *)block + wanted);
        rest->xBlockSize = block->xBlockSize - wanted;
        block->xBlockSize = wanted;
        insert_free_block(rest);
    }
    xFreeBytesRemaining -= block->xBlockSize;
    if (xFreeBytesRemaining < xMinimumEverFreeBytesRemaining) {
        xMinimumEverFreeBytesRemaining = xFreeBytesRemaining;
    }
    block->xBlockSize |= BLOCK_ALLOCATED_BIT;
    block->pxNextFreeBlock = NULL;
    xNumberOfSuccessfulAllocations++;
    return (uint8_t *)block + HEADER_SIZE;
}

/* A new entry at the head of the list: an unused one, else the oldest freed one. */
static void stats_record(const void *lr, const void *ptr, size_t size)
{
    uint16_t chosen = STATS_LIST_END;

    for (uint16_t i = 0; i < STATS_POOL_SIZE && chosen == STATS_LIST_END; i++) {
        if (g_memfault_heap_stats_pool[i].ptr == NULL) {
            chosen = i;
        }
    }
    if (chosen == STATS_LIST_END) {
        return; /* the pool keeps the first STATS_POOL_SIZE allocations in this firmware */
    }
    sMfltHeapStatEntry *entry = &g_memfault_heap_stats_pool[chosen];
    entry->lr = lr;
    entry->ptr = ptr;
    entry->info.size = (uint32_t)size;
    entry->info.in_use = 1u;
    entry->next_entry_index = g_memfault_heap_stats.stats_pool_head;
    g_memfault_heap_stats.stats_pool_head = chosen;
    g_memfault_heap_stats.in_use_block_count++;
    if (g_memfault_heap_stats.in_use_block_count > g_memfault_heap_stats.max_in_use_block_count) {
        g_memfault_heap_stats.max_in_use_block_count = g_memfault_heap_stats.in_use_block_count;
    }
}

void *__attribute__((noinline)) diag_malloc(size_t size)
{
    if (pxEnd == NULL) {
        heap_init();
    }
    void *ptr = heap_take(size);
    if (ptr != NULL) {
        stats_record(__builtin_return_address(0), ptr, size);
    }
    return ptr;
}

void __attribute__((noinline)) diag_free(void *ptr)
{
    BlockLink_t *block = (BlockLink_t *)((uint8_t *)ptr - HEADER_SIZE);

    block->xBlockSize &= ~BLOCK_ALLOCATED_BIT;
    xFreeBytesRemaining += block->xBlockSize;
    insert_free_block(block);
    xNumberOfSuccessfulFrees++;
    for (uint32_t i = 0; i < STATS_POOL_SIZE; i++) {
        sMfltHeapStatEntry *entry = &g_memfault_heap_stats_pool[i];
        if (entry->ptr == ptr && entry->info.in_use) {
            entry->info.in_use = 0u;
            g_memfault_heap_stats.in_use_block_count--;
            break;
        }
    }
}
