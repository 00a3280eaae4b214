package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/probesim/probesim"
)

// signalCatcher turns SIGINT and SIGTERM into a cancelled context (the
// first) and a closed abandon channel (the second).
type signalCatcher struct {
	ctx     context.Context
	abandon chan struct{}
	release func()

	mu  sync.Mutex
	sig syscall.Signal
}

func catchSignals(stderr io.Writer, what string) *signalCatcher {
	ctx, cancel := context.WithCancel(context.Background())
	s := &signalCatcher{ctx: ctx, abandon: make(chan struct{})}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	s.release = func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
	go func() {
		select {
		case sig := <-ch:
			s.mu.Lock()
			s.sig = sig.(syscall.Signal)
			s.mu.Unlock()
			fmt.Fprintf(stderr, "\n%s: %s: letting the runs in flight finish (signal again to drop them)\n", what, signalName(s.sig))
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			fmt.Fprintf(stderr, "%s: dropping the runs in flight\n", what)
			close(s.abandon)
		case <-done:
		}
	}()
	return s
}

// signalName spells the signals probesim catches as a shell does.
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// caught is the first signal received, or 0.
func (s *signalCatcher) caught() syscall.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig
}

// interruptOnSignals cancels a run, naming the signal as the cause
// (probesim.Interruption), on the first SIGINT, SIGTERM or SIGPIPE. After
// a SIGINT or SIGTERM a second one has its default effect: probesim ends
// at once, as a user pressing Ctrl-C twice expects. SIGPIPE stays caught,
// so that a write to a standard output whose reader went away fails with
// EPIPE rather than killing probesim before it writes the report. The
// function returned stops listening.
func interruptOnSignals(cancel context.CancelCauseFunc) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			s := sig.(syscall.Signal)
			if s != syscall.SIGPIPE {
				signal.Reset(os.Interrupt, syscall.SIGTERM)
			}
			cancel(&probesim.Interruption{Signal: s})
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
