/*
 * FreeRTOS lists (include/list.h): the published structures, with their type and member
 * names, for a 32-bit port with configUSE_MINI_LIST_ITEM = 1 and no integrity-check bytes.
 * ListItem_t and List_t are 20 bytes; xListEnd sits at +8 in a List_t.
 */
#ifndef LIST_H
#define LIST_H

#include "FreeRTOS.h"

#define configLIST_VOLATILE

struct xLIST;
struct xLIST_ITEM {
    configLIST_VOLATILE TickType_t xItemValue;          /* sort key (wake time, priority) */
    struct xLIST_ITEM *configLIST_VOLATILE pxNext;
    struct xLIST_ITEM *configLIST_VOLATILE pxPrevious;
    void *pvOwner;                                      /* the TCB */
    struct xLIST *configLIST_VOLATILE pxContainer;      /* the list it is in, or NULL */
};
typedef struct xLIST_ITEM ListItem_t;

struct xMINI_LIST_ITEM {
    configLIST_VOLATILE TickType_t xItemValue;
    struct xLIST_ITEM *configLIST_VOLATILE pxNext;
    struct xLIST_ITEM *configLIST_VOLATILE pxPrevious;
};
typedef struct xMINI_LIST_ITEM MiniListItem_t;

typedef struct xLIST {
    volatile UBaseType_t uxNumberOfItems;
    ListItem_t *configLIST_VOLATILE pxIndex; /* walked by listGET_OWNER_OF_NEXT_ENTRY */
    MiniListItem_t xListEnd;                 /* the end marker: xItemValue = portMAX_DELAY */
} List_t;

#define listSET_LIST_ITEM_OWNER(pxListItem, pxOwner) ((pxListItem)->pvOwner = (void *)(pxOwner))
#define listSET_LIST_ITEM_VALUE(pxListItem, xValue) ((pxListItem)->xItemValue = (xValue))
#define listGET_LIST_ITEM_VALUE(pxListItem) ((pxListItem)->xItemValue)
#define listGET_ITEM_VALUE_OF_HEAD_ENTRY(pxList) (((pxList)->xListEnd).pxNext->xItemValue)
#define listLIST_IS_EMPTY(pxList) (((pxList)->uxNumberOfItems == (UBaseType_t)0) ? pdTRUE : pdFALSE)
#define listCURRENT_LIST_LENGTH(pxList) ((pxList)->uxNumberOfItems)
#define listGET_OWNER_OF_HEAD_ENTRY(pxList) ((&((pxList)->xListEnd))->pxNext->pvOwner)
#define listLIST_ITEM_CONTAINER(pxListItem) ((pxListItem)->pxContainer)
#define listIS_CONTAINED_WITHIN(pxList, pxListItem) \
    (((pxListItem)->pxContainer == (pxList)) ? (pdTRUE) : (pdFALSE))

/* Round robin: advance pxIndex past the end marker and take the owner there. */
#define listGET_OWNER_OF_NEXT_ENTRY(pxTCB, pxList)                                     \
    do {                                                                               \
        List_t *const pxConstList = (pxList);                                          \
        pxConstList->pxIndex = pxConstList->pxIndex->pxNext;                           \
        if ((void *)pxConstList->pxIndex == (void *)&(pxConstList->xListEnd)) {        \
            pxConstList->pxIndex = pxConstList->pxIndex->pxNext;                       \
        }                                                                              \
        (pxTCB) = pxConstList->pxIndex->pvOwner;                                       \
    } while (0)

void vListInitialise(List_t *const pxList);
void vListInitialiseItem(ListItem_t *const pxItem);
void vListInsert(List_t *const pxList, ListItem_t *const pxNewListItem);
void vListInsertEnd(List_t *const pxList, ListItem_t *const pxNewListItem);
UBaseType_t uxListRemove(ListItem_t *const pxItemToRemove);

#endif
