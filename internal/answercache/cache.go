// Package answercache keeps the successful answers of vipgate's
// authorizers (the webhook and database identification) per gate for a
// fixed TTL, in memory only. One rule, one place: both cache alike, and
// neither caches an error. It imports the domain (gate) and the standard
// library only.
package answercache

import (
	"container/list"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// DefaultSize bounds the cache of one gate.
const DefaultSize = 10000

// Cache keeps answers by key K for a fixed TTL. Entries are kept in
// insertion order, which with one TTL is also expiry order: a full cache
// drops expired entries, then the oldest. It is safe for concurrent use.
type Cache[K comparable] struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	items map[K]*list.Element
	order list.List // of *entry[K], oldest first
}

type entry[K comparable] struct {
	key     K
	answer  gate.AuthAnswer
	expires time.Time
}

// New returns a cache whose entries live for ttl, at most max of them
// (0 means DefaultSize).
func New[K comparable](ttl time.Duration, max int) *Cache[K] {
	if max <= 0 {
		max = DefaultSize
	}
	return &Cache[K]{ttl: ttl, max: max, items: make(map[K]*list.Element)}
}

// Get returns the answer cached for k at now.
func (c *Cache[K]) Get(k K, now time.Time) (gate.AuthAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return gate.AuthAnswer{}, false
	}
	e := el.Value.(*entry[K])
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, k)
		return gate.AuthAnswer{}, false
	}
	return e.answer, true
}

// Put caches a for k from now on.
func (c *Cache[K]) Put(k K, a gate.AuthAnswer, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
	for c.order.Len() > 0 {
		front := c.order.Front()
		e := front.Value.(*entry[K])
		if c.order.Len() < c.max && now.Before(e.expires) {
			break
		}
		c.order.Remove(front)
		delete(c.items, e.key)
	}
	c.items[k] = c.order.PushBack(&entry[K]{key: k, answer: a, expires: now.Add(c.ttl)})
}

// Len returns the number of entries, expired ones included.
func (c *Cache[K]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
