package uc

/*
#include "shim.h"
*/
import "C"

import "errors"

// Context is a saved CPU state (registers only; memory is not included). It
// lives in C memory and must be released with Free.
type Context struct {
	p *C.uc_context
}

var errNoContext = errors.New("unicorn: context: nil or freed context")

// ContextSave allocates a context and saves the CPU state into it.
func (e *Engine) ContextSave() (*Context, error) {
	if err := e.alive(); err != nil {
		return nil, err
	}
	var p *C.uc_context
	if err := check("context_alloc", C.uc_context_alloc(e.uc, &p)); err != nil {
		return nil, err
	}
	c := &Context{p: p}
	if err := check("context_save", C.uc_context_save(e.uc, p)); err != nil {
		c.Free()
		return nil, err
	}
	return c, nil
}

// ContextSaveInto saves the CPU state into an existing context of an engine
// of the same mode, avoiding an allocation.
func (e *Engine) ContextSaveInto(c *Context) error {
	if err := e.alive(); err != nil {
		return err
	}
	if c == nil || c.p == nil {
		return errNoContext
	}
	return check("context_save", C.uc_context_save(e.uc, c.p))
}

// ContextRestore loads the CPU state saved in c.
func (e *Engine) ContextRestore(c *Context) error {
	if err := e.alive(); err != nil {
		return err
	}
	if c == nil || c.p == nil {
		return errNoContext
	}
	return check("context_restore", C.uc_context_restore(e.uc, c.p))
}

// Free releases the context; it is idempotent.
func (c *Context) Free() {
	if c == nil || c.p == nil {
		return
	}
	C.uc_context_free(c.p)
	c.p = nil
}
