/* Zephyr's doubly linked list (include/zephyr/sys/dlist.h): the same types and behaviour. */
#ifndef ZEPHYR_SYS_DLIST_H
#define ZEPHYR_SYS_DLIST_H

#include <stdbool.h>
#include <stddef.h>

struct _dnode {
    union {
        struct _dnode *head; /* ptr to head of list (sys_dlist_t) */
        struct _dnode *next; /* ptr to next node    (sys_dnode_t) */
    };
    union {
        struct _dnode *tail; /* ptr to tail of list (sys_dlist_t) */
        struct _dnode *prev; /* ptr to previous node (sys_dnode_t) */
    };
};
typedef struct _dnode sys_dlist_t;
typedef struct _dnode sys_dnode_t;

static inline void sys_dlist_init(sys_dlist_t *list)
{
    list->head = (sys_dnode_t *)list;
    list->tail = (sys_dnode_t *)list;
}

static inline void sys_dnode_init(sys_dnode_t *node)
{
    node->next = NULL;
    node->prev = NULL;
}

static inline bool sys_dnode_is_linked(const sys_dnode_t *node)
{
    return node->next != NULL;
}

static inline bool sys_dlist_is_empty(const sys_dlist_t *list)
{
    return list->head == list;
}

static inline sys_dnode_t *sys_dlist_peek_head(const sys_dlist_t *list)
{
    return sys_dlist_is_empty(list) ? NULL : list->head;
}

static inline sys_dnode_t *sys_dlist_peek_next(const sys_dlist_t *list, const sys_dnode_t *node)
{
    return (node == list->tail) ? NULL : node->next;
}

static inline void sys_dlist_append(sys_dlist_t *list, sys_dnode_t *node)
{
    sys_dnode_t *const tail = list->tail;

    node->next = list;
    node->prev = tail;
    tail->next = node;
    list->tail = node;
}

static inline void sys_dlist_insert(sys_dnode_t *successor, sys_dnode_t *node)
{
    sys_dnode_t *const prev = successor->prev;

    node->prev = prev;
    node->next = successor;
    prev->next = node;
    successor->prev = node;
}

static inline void sys_dlist_remove(sys_dnode_t *node)
{
    sys_dnode_t *const prev = node->prev;
    sys_dnode_t *const next = node->next;

    prev->next = next;
    next->prev = prev;
    sys_dnode_init(node);
}

#endif
