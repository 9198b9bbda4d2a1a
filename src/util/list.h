/* Intrusive doubly-linked list. Embed struct list_node in the element and
 * get the element back with container_of(). */
#ifndef SEAL_LIST_H
#define SEAL_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct list_node {
	struct list_node *prev, *next;
};

struct list {
	struct list_node head;
	size_t count;
};

static inline void list_init(struct list *l)
{
	l->head.prev = l->head.next = &l->head;
	l->count = 0;
}

static inline bool list_empty(const struct list *l)
{
	return l->head.next == &l->head;
}

static inline void list_push_back(struct list *l, struct list_node *n)
{
	n->prev = l->head.prev;
	n->next = &l->head;
	l->head.prev->next = n;
	l->head.prev = n;
	l->count++;
}

static inline void list_remove(struct list *l, struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
	l->count--;
}

static inline struct list_node *list_first(const struct list *l)
{
	return list_empty(l) ? NULL : l->head.next;
}

/* Safe against removal of the current node. */
#define list_for_each_safe(pos, tmp, l)                                        \
	for ((pos) = (l)->head.next, (tmp) = (pos)->next; (pos) != &(l)->head; \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
