package index

import (
	"math/big"
	"sync"

	"github.com/minerscope/minerscope/analysis"
)

// workCache remembers the work of the last bits seen: bits change once per 2016 blocks at most on
// mainnet, and the big-integer division is a noticeable part of connecting a header.
type workCache struct {
	mu   sync.Mutex
	bits uint32
	work *big.Int
}

// of returns the work of a block with bits; the result must not be modified.
func (c *workCache) of(bits uint32) *big.Int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.work == nil || c.bits != bits {
		c.bits, c.work = bits, analysis.CalcWork(bits)
	}
	return c.work
}
