package loader

import "strconv"

// AuxType is the a_type of an auxiliary vector entry
// (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).
type AuxType uint64

const (
	AtNull         AuxType = 0  // AT_NULL: end of the vector
	AtIgnore       AuxType = 1  // AT_IGNORE
	AtExecFD       AuxType = 2  // AT_EXECFD
	AtPhdr         AuxType = 3  // AT_PHDR: address of the program headers
	AtPhent        AuxType = 4  // AT_PHENT: size of one program header
	AtPhnum        AuxType = 5  // AT_PHNUM: number of program headers
	AtPagesz       AuxType = 6  // AT_PAGESZ
	AtBase         AuxType = 7  // AT_BASE: interpreter base (0: none)
	AtFlags        AuxType = 8  // AT_FLAGS
	AtEntry        AuxType = 9  // AT_ENTRY: program entry point
	AtNotELF       AuxType = 10 // AT_NOTELF
	AtUID          AuxType = 11 // AT_UID
	AtEUID         AuxType = 12 // AT_EUID
	AtGID          AuxType = 13 // AT_GID
	AtEGID         AuxType = 14 // AT_EGID
	AtPlatform     AuxType = 15 // AT_PLATFORM: address of the platform string
	AtHWCap        AuxType = 16 // AT_HWCAP: CPUID.1:EDX on x86
	AtClkTck       AuxType = 17 // AT_CLKTCK: times(2) ticks per second
	AtSecure       AuxType = 23 // AT_SECURE: setuid-like execution
	AtBasePlatform AuxType = 24 // AT_BASE_PLATFORM
	AtRandom       AuxType = 25 // AT_RANDOM: address of 16 random bytes
	AtHWCap2       AuxType = 26 // AT_HWCAP2
	AtRseqFeatSize AuxType = 27 // AT_RSEQ_FEATURE_SIZE
	AtRseqAlign    AuxType = 28 // AT_RSEQ_ALIGN
	AtExecFn       AuxType = 31 // AT_EXECFN: address of the executed file name
	AtSysinfo      AuxType = 32 // AT_SYSINFO: i386 vsyscall entry
	AtSysinfoEHdr  AuxType = 33 // AT_SYSINFO_EHDR: vDSO base
	AtMinSigStkSz  AuxType = 51 // AT_MINSIGSTKSZ
)

var auxNames = map[AuxType]string{
	AtNull: "AT_NULL", AtIgnore: "AT_IGNORE", AtExecFD: "AT_EXECFD", AtPhdr: "AT_PHDR",
	AtPhent: "AT_PHENT", AtPhnum: "AT_PHNUM", AtPagesz: "AT_PAGESZ", AtBase: "AT_BASE",
	AtFlags: "AT_FLAGS", AtEntry: "AT_ENTRY", AtNotELF: "AT_NOTELF", AtUID: "AT_UID",
	AtEUID: "AT_EUID", AtGID: "AT_GID", AtEGID: "AT_EGID", AtPlatform: "AT_PLATFORM",
	AtHWCap: "AT_HWCAP", AtClkTck: "AT_CLKTCK", AtSecure: "AT_SECURE",
	AtBasePlatform: "AT_BASE_PLATFORM", AtRandom: "AT_RANDOM", AtHWCap2: "AT_HWCAP2",
	AtRseqFeatSize: "AT_RSEQ_FEATURE_SIZE", AtRseqAlign: "AT_RSEQ_ALIGN",
	AtExecFn: "AT_EXECFN", AtSysinfo: "AT_SYSINFO", AtSysinfoEHdr: "AT_SYSINFO_EHDR",
	AtMinSigStkSz: "AT_MINSIGSTKSZ",
}

// String returns the C name, e.g. "AT_PHDR", or "AT_<number>" if unknown.
func (t AuxType) String() string {
	if n, ok := auxNames[t]; ok {
		return n
	}
	return "AT_" + strconv.FormatUint(uint64(t), 10)
}

// AuxEntry is one auxiliary vector pair.
type AuxEntry struct {
	Type  AuxType
	Value uint64
}
