package uc

import (
	"sync"
	"sync/atomic"
)

// The callback table maps integer handles to Go callbacks. C never holds a
// Go pointer: Unicorn gets the handle as user_data and the C trampolines pass
// it back to an exported Go function, which looks the callback up here.
//
// Locking: the table is shared by all engines, which may run on different
// goroutines at once, and is read on every callback but written only when a
// hook is added or removed. So it is copy-on-write: readers do one atomic
// load and a map lookup, with no lock and no shared-cache-line writes;
// writers serialize on tableMu and publish a fresh copy. (sync.Map cost
// ~50 ns per lookup here, more than a third of a callback.)

// callback is one table entry: the engine whose Start is running when it
// fires (to record failures and stop it), and the user function.
type callback struct {
	eng *Engine
	fn  any
}

type callbackTable map[uintptr]*callback

var (
	tableMu    sync.Mutex // serializes writers
	table      atomic.Pointer[callbackTable]
	nextHandle uintptr // guarded by tableMu
)

// update applies change to a copy of the table and publishes it.
func update(change func(t callbackTable)) {
	tableMu.Lock()
	defer tableMu.Unlock()
	next := callbackTable{}
	if cur := table.Load(); cur != nil {
		for h, cb := range *cur {
			next[h] = cb
		}
	}
	change(next)
	table.Store(&next)
}

// register adds cb to the table and returns its handle (never 0).
func register(cb *callback) uintptr {
	var h uintptr
	update(func(t callbackTable) {
		nextHandle++
		h = nextHandle
		t[h] = cb
	})
	return h
}

// replace swaps the entry for an existing handle.
func replace(h uintptr, cb *callback) { update(func(t callbackTable) { t[h] = cb }) }

func unregister(h uintptr) { update(func(t callbackTable) { delete(t, h) }) }

func lookup(h uintptr) *callback {
	t := table.Load()
	if t == nil {
		return nil
	}
	return (*t)[h]
}
