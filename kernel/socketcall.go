package kernel

import "syscall"

// socketcall(call, args) is i386's multiplexer for the socket syscalls
// (net/socket.c): it reads the call's arguments from the array at args
// and runs the same handler as the direct syscall (359-373 on i386;
// glibc 2.36 and Go's syscall package on 386 use socketcall).

// socketcallArgs is nargs[] of net/socket.c: how many arguments each
// call takes, by call number (SYS_SOCKET = 1 ... SYS_SENDMMSG = 20).
var socketcallArgs = [21]int{0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4}

// socketcallNames are the calls' syscall names, for the handlers and for
// counting what is not modelled.
var socketcallNames = [21]string{"", "socket", "bind", "connect", "listen", "accept", "getsockname",
	"getpeername", "socketpair", "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt",
	"getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg"}

func sysSocketcall(k *Kernel, t *Task, a Args) (uint64, Result) {
	call := a[0]
	if call < 1 || call >= uint64(len(socketcallArgs)) {
		return fail(syscall.EINVAL)
	}
	var args Args
	for i := 0; i < socketcallArgs[call]; i++ {
		v, e := k.readU32(a[1] + uint64(4*i))
		if e != 0 {
			return fail(e)
		}
		args[i] = uint64(v)
	}
	switch call {
	case 9: // send(fd, buf, len, flags) is sendto without an address
		args[4], args[5] = 0, 0
		return sysSendto(k, t, args)
	case 10: // recv
		args[4], args[5] = 0, 0
		return sysRecvfrom(k, t, args)
	}
	name := socketcallNames[call]
	sc := k.table[name]
	if sc == nil || sc.Fn == nil {
		k.unsupportedDetail("socketcall", name)
		return fail(syscall.ENOSYS)
	}
	return sc.Fn(k, t, args)
}
