package webhook

import (
	"container/list"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// DefaultCacheSize bounds the answer cache of one gate.
const DefaultCacheSize = 10000

// cache keeps successful answers per (caller, called) for a fixed TTL, in
// memory only. Entries are kept in insertion order, which with one TTL is
// also expiry order: a full cache drops expired entries, then the oldest.
type cache struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	items map[cacheKey]*list.Element
	order list.List // of *cacheEntry, oldest first
}

type cacheKey struct{ caller, called string }

type cacheEntry struct {
	key     cacheKey
	answer  gate.AuthAnswer
	expires time.Time
}

func newCache(ttl time.Duration, max int) *cache {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &cache{ttl: ttl, max: max, items: make(map[cacheKey]*list.Element)}
}

// get returns the answer cached for k at now.
func (c *cache) get(k cacheKey, now time.Time) (gate.AuthAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return gate.AuthAnswer{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, k)
		return gate.AuthAnswer{}, false
	}
	return e.answer, true
}

// put caches a for k from now on.
func (c *cache) put(k cacheKey, a gate.AuthAnswer, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
	for c.order.Len() > 0 {
		front := c.order.Front()
		e := front.Value.(*cacheEntry)
		if c.order.Len() < c.max && now.Before(e.expires) {
			break
		}
		c.order.Remove(front)
		delete(c.items, e.key)
	}
	c.items[k] = c.order.PushBack(&cacheEntry{key: k, answer: a, expires: now.Add(c.ttl)})
}

// len returns the number of entries, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
