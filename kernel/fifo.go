package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// openFIFO opens a FIFO of the view. Named pipes need the pipe
// implementation; until then, opening one is ENXIO, as for a FIFO whose
// other end cannot be reached.
func (k *Kernel) openFIFO(t *Task, n *vfs.Node, flags uint32) (*FileDescription, syscall.Errno) {
	k.unsupportedDetail("open", "FIFO")
	return nil, syscall.ENXIO
}
