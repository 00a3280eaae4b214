package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Exclusive results files.
//
// A sweep holds an advisory lock (flock(2), LOCK_EX) on its --out for its
// whole life; WriteFile (merge, check) holds it while it writes. The lock
// is on a lock file beside the results file, ".NAME.lock", not on the
// results file itself, which every save replaces by rename (a new inode
// each time). The holder writes its pid into the lock file, so that a
// second sweep on the same file fails at once with a line naming it.
// flock locks die with their process, even by SIGKILL; a lock file left
// behind then is taken over by the next sweep. The holder removes the lock
// file when it is done, and a process that locked a lock file checks it
// is still the one at its path (not one removed meanwhile), or tries again.

// LockError is the error for a results file another process is writing.
type LockError struct {
	Path string // the results file
	PID  int    // the holder's pid, 0 if it could not be read
}

func (e *LockError) Error() string {
	who := "another probesim"
	if e.PID > 0 {
		who = fmt.Sprintf("another probesim (pid %d)", e.PID)
	}
	return fmt.Sprintf("%s is being written by %s; wait for it to end or choose another file", e.Path, who)
}

// fileLock is a held lock.
type fileLock struct {
	f    *os.File
	path string // of the lock file
}

// lockPath is the lock file of results file path.
func lockPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".lock")
}

// lockFile takes the lock of results file path without waiting: it fails
// with a *LockError when another process holds it. Other errors name path.
func lockFile(path string) (*fileLock, error) {
	lp := lockPath(path)
	for range 100 {
		f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, &fs.PathError{Op: "lock", Path: path, Err: osErr(err)}
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := holderPID(f)
			f.Close()
			return nil, &LockError{Path: path, PID: pid}
		}
		if err != nil {
			f.Close()
			return nil, &fs.PathError{Op: "lock", Path: path, Err: err}
		}
		// The holder before us may have removed the file between our open
		// and our flock: then we hold a lock nobody else can see.
		mine, err1 := f.Stat()
		there, err2 := os.Stat(lp)
		if err1 != nil || err2 != nil || !os.SameFile(mine, there) {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, &fs.PathError{Op: "lock", Path: path, Err: osErr(err)}
		}
		if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
			f.Close()
			return nil, &fs.PathError{Op: "lock", Path: path, Err: osErr(err)}
		}
		return &fileLock{f: f, path: lp}, nil
	}
	return nil, &fs.PathError{Op: "lock", Path: path, Err: errors.New("the lock file keeps changing")}
}

// holderPID reads the holder's pid from the lock file. The holder writes
// it right after taking the lock; give it a moment if it has not yet.
func holderPID(f *os.File) int {
	for range 20 {
		var buf [32]byte
		n, _ := f.ReadAt(buf[:], 0)
		if pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n]))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

// release removes the lock file and drops the lock, in that order, so no
// one takes a lock on a file about to disappear.
func (l *fileLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
