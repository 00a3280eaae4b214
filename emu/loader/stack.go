package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// DefaultUID and DefaultGID are the credentials NewStackSpec reports to the
// guest: an ordinary first user, so programs do not take root-only paths.
const (
	DefaultUID = 1000
	DefaultGID = 1000
)

// ClockTicks is AT_CLKTCK: CLOCKS_PER_SEC (USER_HZ) on x86 Linux.
const ClockTicks = 100

// MaxArgStrlen is MAX_ARG_STRLEN (include/uapi/linux/binfmts.h): the largest
// single argument or environment string, NUL included.
const MaxArgStrlen = 32 * PageSize

// MaxArgBytes bounds the argument and environment strings plus their
// pointers: a quarter of the default 8 MiB stack rlimit, the limit
// fs/exec.c bprm_stack_limits computes for `ulimit -s 8192`.
const MaxArgBytes = 2 << 20

// ErrArgListTooLong is wrapped by BuildStack when the strings exceed
// MaxArgStrlen or MaxArgBytes; it corresponds to E2BIG from execve(2).
var ErrArgListTooLong = errors.New("argument list too long")

// StackSpec describes the initial process stack of a program.
type StackSpec struct {
	Image *Image // the program; supplies AT_PHDR, AT_PHENT, AT_PHNUM, AT_ENTRY
	Arch  Arch   // 0 means Image.Arch; otherwise it must equal Image.Arch
	// Top is the end (exclusive) of the stack: 16-byte aligned, at most
	// Arch.TaskSize(). 0 means Arch.StackTop().
	Top        uint64
	Argv, Envp []string
	// ExecFn is the file name as given to execve (AT_EXECFN).
	ExecFn string
	// Platform is the AT_PLATFORM string ("i686" or "x86_64"); empty omits
	// both the string and the entry, as Linux does without ELF_PLATFORM.
	Platform             string
	Random               [16]byte // the AT_RANDOM bytes (seed them for determinism)
	HWCap                uint64   // AT_HWCAP: the emulated CPU's CPUID.1:EDX
	HWCap2               uint64   // AT_HWCAP2
	PageSize             uint64   // AT_PAGESZ; 0 means 4096
	UID, EUID, GID, EGID uint32
	Secure               bool // AT_SECURE
	// InterpBase is AT_BASE: where the program interpreter was loaded (its
	// load bias), 0 for a static program.
	InterpBase uint64
	// Extra entries go after the standard ones, just before AT_NULL (for
	// example AT_MINSIGSTKSZ). AT_NULL itself is not allowed here.
	Extra []AuxEntry
}

// NewStackSpec returns the spec probesim uses by default: the architecture's
// stack top and platform, ExecFn = argv[0], 4 KiB pages and the
// DefaultUID/DefaultGID credentials. Random and HWCap stay zero for the
// caller to fill.
func NewStackSpec(im *Image, argv, envp []string) StackSpec {
	s := StackSpec{
		Image: im, Argv: argv, Envp: envp, PageSize: PageSize,
		UID: DefaultUID, EUID: DefaultUID, GID: DefaultGID, EGID: DefaultGID,
	}
	if im != nil {
		s.Arch = im.Arch
		s.Top = im.Arch.StackTop()
		s.Platform = im.Arch.Platform()
	}
	if len(argv) > 0 {
		s.ExecFn = argv[0]
	}
	return s
}

// StackLayout records where BuildStack put everything (guest addresses).
type StackLayout struct {
	SP, Top  uint64 // the image covers [SP, Top)
	Argc     uint64
	ArgvPtrs uint64   // address of the argv[0] pointer (SP + word)
	EnvpPtrs uint64   // address of the envp[0] pointer
	Auxv     uint64   // address of the first auxv pair
	Argv     []uint64 // address of each argv string
	Envp     []uint64 // address of each envp string
	Strings  uint64   // lowest address of the string area (argv[0]'s string)
	ExecFn   uint64   // address of the AT_EXECFN string
	Platform uint64   // address of the AT_PLATFORM string; 0 if omitted
	Random   uint64   // address of the 16 AT_RANDOM bytes
	Aux      []AuxEntry
}

// BuildStack lays out the initial stack the way fs/binfmt_elf.c
// create_elf_tables and fs/exec.c do, without address randomisation.
// From Top downwards:
//
//	8 zero bytes                    (bprm->p = vm_end - sizeof(void *))
//	ExecFn string                   (copy_string_kernel(bprm->filename))
//	envp strings, envp[0] lowest    (copy_strings copies the last one first)
//	argv strings, argv[0] lowest
//	padding to 16 bytes             (arch_align_stack)
//	platform string                 (AT_PLATFORM, if any)
//	16 AT_RANDOM bytes
//	padding                         (so that SP ends 16-byte aligned)
//	auxv pairs ending with AT_NULL
//	NULL, envp pointers
//	NULL, argv pointers
//	argc                            <- SP, 16-byte aligned (STACK_ROUND)
//
// Every slot is a word: 4 bytes on i386, 8 on x86-64. The auxv order is the
// kernel's: AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM,
// AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE,
// AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM, Extra..., AT_NULL.
// Deviation: no AT_SYSINFO_EHDR (and on i386 no AT_SYSINFO) because probesim
// maps no vDSO, and no AT_MINSIGSTKSZ / AT_RSEQ_* unless given in Extra.
// As Linux has done since 5.18 (fs/exec.c do_execveat_common), an empty
// Argv becomes a single empty string so argv[0] is never NULL.
//
// The returned image holds the bytes of [sp, Top).
func BuildStack(s StackSpec) ([]byte, uint64, StackLayout, error) {
	var lay StackLayout
	if s.Image == nil {
		return nil, 0, lay, errors.New("build stack: no image")
	}
	arch := s.Arch
	if arch == 0 {
		arch = s.Image.Arch
	}
	if !arch.Valid() || arch != s.Image.Arch {
		return nil, 0, lay, fmt.Errorf("build stack: architecture %v does not match the %v image", arch, s.Image.Arch)
	}
	top := s.Top
	if top == 0 {
		top = arch.StackTop()
	}
	if top%16 != 0 || top > arch.TaskSize() {
		return nil, 0, lay, fmt.Errorf("build stack: top 0x%x is not 16-byte aligned or is above the %v user address space", top, arch)
	}
	pageSize := s.PageSize
	if pageSize == 0 {
		pageSize = PageSize
	}
	argv := s.Argv
	if len(argv) == 0 {
		argv = []string{""}
	}
	word := arch.WordSize()

	// Check the strings and their total size before laying anything out.
	total := uint64(len(argv)+len(s.Envp)) * word
	check := func(what string, list []string) error {
		for i, str := range list {
			if strings.IndexByte(str, 0) >= 0 {
				return fmt.Errorf("build stack: %s[%d] contains a NUL byte", what, i)
			}
			if len(str)+1 > MaxArgStrlen {
				return fmt.Errorf("build stack: %s[%d] is longer than %d bytes: %w", what, i, MaxArgStrlen-1, ErrArgListTooLong)
			}
			total += uint64(len(str)) + 1
		}
		return nil
	}
	if err := check("argv", argv); err != nil {
		return nil, 0, lay, err
	}
	if err := check("envp", s.Envp); err != nil {
		return nil, 0, lay, err
	}
	if err := check("execfn", []string{s.ExecFn}); err != nil {
		return nil, 0, lay, err
	}
	if err := check("platform", []string{s.Platform}); err != nil {
		return nil, 0, lay, err
	}
	if total > MaxArgBytes {
		return nil, 0, lay, fmt.Errorf("build stack: %d bytes of arguments and environment exceed %d: %w", total, MaxArgBytes, ErrArgListTooLong)
	}
	for _, e := range s.Extra {
		if e.Type == AtNull {
			return nil, 0, lay, errors.New("build stack: AT_NULL in extra auxv entries")
		}
	}

	// Addresses, from the top down. Nothing below can underflow once the
	// bound is checked: everything fits in total + a few pages.
	if top < total+uint64(len(s.Extra))*2*word+2*PageSize {
		return nil, 0, lay, fmt.Errorf("build stack: top 0x%x is too low for the arguments", top)
	}
	p := top - 8
	push := func(str string) uint64 {
		p -= uint64(len(str)) + 1
		return p
	}
	lay.ExecFn = push(s.ExecFn)
	lay.Envp = make([]uint64, len(s.Envp))
	for i := len(s.Envp) - 1; i >= 0; i-- {
		lay.Envp[i] = push(s.Envp[i])
	}
	lay.Argv = make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		lay.Argv[i] = push(argv[i])
	}
	lay.Strings = p
	p &^= 15
	if s.Platform != "" {
		lay.Platform = push(s.Platform)
	}
	p -= 16
	lay.Random = p

	im := s.Image
	aux := []AuxEntry{
		{AtHWCap, s.HWCap},
		{AtPagesz, pageSize},
		{AtClkTck, ClockTicks},
		{AtPhdr, im.PhdrAddr},
		{AtPhent, im.Phent},
		{AtPhnum, im.Phnum},
		{AtBase, s.InterpBase},
		{AtFlags, 0},
		{AtEntry, im.Entry},
		{AtUID, uint64(s.UID)},
		{AtEUID, uint64(s.EUID)},
		{AtGID, uint64(s.GID)},
		{AtEGID, uint64(s.EGID)},
		{AtSecure, b2u(s.Secure)},
		{AtRandom, lay.Random},
		{AtHWCap2, s.HWCap2},
		{AtExecFn, lay.ExecFn},
	}
	if s.Platform != "" {
		aux = append(aux, AuxEntry{AtPlatform, lay.Platform})
	}
	aux = append(aux, s.Extra...)
	aux = append(aux, AuxEntry{AtNull, 0})
	lay.Aux = aux

	items := uint64(len(argv)+1) + uint64(len(s.Envp)+1) + 1
	sp := (p - (uint64(len(aux))*2+items)*word) &^ 15
	lay.SP, lay.Top = sp, top
	lay.Argc = uint64(len(argv))
	lay.ArgvPtrs = sp + word
	lay.EnvpPtrs = lay.ArgvPtrs + uint64(len(argv)+1)*word
	lay.Auxv = lay.EnvpPtrs + uint64(len(s.Envp)+1)*word

	img := make([]byte, top-sp)
	put := func(addr, v uint64) {
		b := img[addr-sp:]
		if word == 4 {
			binary.LittleEndian.PutUint32(b, uint32(v))
		} else {
			binary.LittleEndian.PutUint64(b, v)
		}
	}
	str := func(addr uint64, v string) { copy(img[addr-sp:], v) } // NUL: img is zeroed

	put(sp, lay.Argc)
	for i, a := range lay.Argv {
		put(lay.ArgvPtrs+uint64(i)*word, a)
		str(a, argv[i])
	}
	for i, a := range lay.Envp {
		put(lay.EnvpPtrs+uint64(i)*word, a)
		str(a, s.Envp[i])
	}
	for i, e := range aux {
		put(lay.Auxv+uint64(2*i)*word, uint64(e.Type))
		put(lay.Auxv+uint64(2*i+1)*word, e.Value)
	}
	copy(img[lay.Random-sp:], s.Random[:])
	if s.Platform != "" {
		str(lay.Platform, s.Platform)
	}
	str(lay.ExecFn, s.ExecFn)
	return img, sp, lay, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
