// The curated corpus. Each block was listed with `validatetiming -describe FILE:SYMBOL` from the
// object or fixture its Source names and its bytes copied here, so that the corpus does not
// change with the toolchain: do not edit the hex.

package mcacheck

// Curated are real basic blocks beyond the fixtures, each a single-block loop (it ends in a
// branch back to its first byte):
//
//   - textbook/<arch>/<fn>: textbook loops (dot product, pointer chasing, prefix sum, CRC,
//     bit manipulation, hashing, ...) compiled by gcc 12.2 (Debian 12) as the Source says;
//     _vec are the vectorized loops of gcc -O3 and _x87 the x87 code of the i386 default.
//   - glibc/<arch>/<sym>.loopN: the Nth single-block loop of a glibc 2.36 routine as linked into
//     the static fixtures (string, memory, stdio and printf internals).
//
// The disassembly comments are x86asm's Intel syntax at the block's offset in its function.
var Curated = []Block{
	// loop0: dot_int+0x18..0x2a mode 64
	//   18: mov edx, dword ptr [rdi+rax]
	//   1b: imul edx, dword ptr [rsi+rax]
	//   1f: add rax, 0x4
	//   23: add ecx, edx
	//   25: cmp r8, rax
	//   28: jnz 0x18
	{Name: "textbook/x86_64/dot_int", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: int dot_int(const int *a, const int *b, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }", Hex: "8b14070faf14064883c00401d14939c075ee"},
	// loop0: chase+0x10..0x1c mode 64
	//   10: add rax, qword ptr [rdi+0x8]
	//   14: mov rdi, qword ptr [rdi]
	//   17: test rdi, rdi
	//   1a: jnz 0x10
	{Name: "textbook/x86_64/chase", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: long chase(const struct node *p) { long n = 0; while (p) { n += p->val; p = p->next; } return n; }", Hex: "48034708488b3f4885ff75f4"},
	// loop0: prefix_sum+0x18..0x28 mode 64
	//   18: mov rdx, qword ptr [rax-0x8]
	//   1c: add qword ptr [rax], rdx
	//   1f: add rax, 0x8
	//   23: cmp rax, rcx
	//   26: jnz 0x18
	{Name: "textbook/x86_64/prefix_sum", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: void prefix_sum(long *a, int n) { for (int i = 1; i < n; i++) a[i] += a[i - 1]; }", Hex: "488b50f84801104883c0084839c875f0"},
	// loop0: crc32_bitwise+0x20..0x35 mode 64
	//   20: mov ecx, eax
	//   22: and eax, 0x1
	//   25: neg eax
	//   27: shr ecx, 0x1
	//   29: and eax, -0x12477ce0
	//   2e: xor eax, ecx
	//   30: sub edx, 0x1
	//   33: jnz 0x20
	{Name: "textbook/x86_64/crc32_bitwise", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: uint32_t crc32_bitwise(const uint8_t *p, size_t n) { uint32_t crc = ~0u; while (n--) { crc ^= *p++; for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1)); } return ~crc; }", Hex: "89c183e001f7d8d1e9252083b8ed31c883ea0175eb"},
	// loop0: crc32_table+0x10..0x27 mode 64
	//   10: movzx ecx, byte ptr [rdi]
	//   13: add rdi, 0x1
	//   17: xor ecx, eax
	//   19: shr eax, 0x8
	//   1c: movzx ecx, cl
	//   1f: xor eax, dword ptr [rdx+4*rcx]
	//   22: cmp rdi, rsi
	//   25: jnz 0x10
	{Name: "textbook/x86_64/crc32_table", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: uint32_t crc32_table(const uint8_t *p, size_t n, const uint32_t *t) { uint32_t crc = ~0u; while (n--) crc = t[(crc ^ *p++) & 0xff] ^ (crc >> 8); return ~crc; }", Hex: "0fb60f4883c70131c1c1e8080fb6c933048a4839f775e9"},
	// loop0: popcount_kernighan+0x10..0x1c mode 64
	//   10: lea rax, ptr [rdi-0x1]
	//   14: add edx, 0x1
	//   17: and rdi, rax
	//   1a: jnz 0x10
	{Name: "textbook/x86_64/popcount_kernighan", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: int popcount_kernighan(uint64_t x) { int c = 0; while (x) { x &= x - 1; c++; } return c; }", Hex: "488d47ff83c2014821c775f4"},
	// loop0: bit_reverse+0x10..0x20 mode 64
	//   10: mov ecx, edi
	//   12: add eax, eax
	//   14: shr edi, 0x1
	//   16: and ecx, 0x1
	//   19: or eax, ecx
	//   1b: sub edx, 0x1
	//   1e: jnz 0x10
	{Name: "textbook/x86_64/bit_reverse", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: uint32_t bit_reverse(uint32_t x) { uint32_t r = 0; for (int i = 0; i < 32; i++) { r = (r << 1) | (x & 1); x >>= 1; } return r; }", Hex: "89f901c0d1ef83e10109c883ea0175f0"},
	// loop0: fnv1a+0x10..0x24 mode 64
	//   10: movzx edx, byte ptr [rdi]
	//   13: add rdi, 0x1
	//   17: xor eax, edx
	//   19: imul eax, eax, 0x1000193
	//   1f: cmp rsi, rdi
	//   22: jnz 0x10
	{Name: "textbook/x86_64/fnv1a", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: uint32_t fnv1a(const uint8_t *p, size_t n) { uint32_t h = 2166136261u; for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u; return h; }", Hex: "0fb6174883c70131d069c0930100014839fe75ec"},
	// loop0: naive_strlen+0x10..0x19 mode 64
	//   10: add rax, 0x1
	//   14: cmp byte ptr [rax], 0x0
	//   17: jnz 0x10
	{Name: "textbook/x86_64/naive_strlen", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: size_t naive_strlen(const char *s) { const char *p = s; while (*p) p++; return p - s; }", Hex: "4883c00180380075f7"},
	// loop0: byte_copy+0x10..0x20 mode 64
	//   10: movzx ecx, byte ptr [rsi+rax]
	//   14: mov byte ptr [rdi+rax], cl
	//   17: add rax, 0x1
	//   1b: cmp rdx, rax
	//   1e: jnz 0x10
	{Name: "textbook/x86_64/byte_copy", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: void byte_copy(char *d, const char *s, size_t n) { for (size_t i = 0; i < n; i++) { __asm__(\"\" ::: \"memory\"); d[i] = s[i]; } }", Hex: "0fb60c06880c074883c0014839c275f0"},
	// loop0: bsearch_branchless+0x10..0x2a mode 64
	//   10: mov rcx, rsi
	//   13: sar rcx, 0x1
	//   16: lea r8, ptr [rax+8*rcx]
	//   1a: cmp qword ptr [r8], rdx
	//   1d: cmovl rax, r8
	//   21: sub rsi, rcx
	//   24: cmp rsi, 0x1
	//   28: jnle 0x10
	{Name: "textbook/x86_64/bsearch_branchless", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: long bsearch_branchless(const long *a, long n, long key) { const long *base = a; while (n > 1) { long half = n / 2; base = base[half] < key ? base + half : base; n -= half; } return base - a; }", Hex: "4889f148d1f94c8d04c8493910490f4cc04829ce4883fe017fe6"},
	// loop0: xorshift_fill+0x10..0x3b mode 64
	//   10: mov rdx, rax
	//   13: add rdi, 0x8
	//   17: shl rdx, 0xd
	//   1b: xor rax, rdx
	//   1e: mov rdx, rax
	//   21: shr rdx, 0x7
	//   25: xor rdx, rax
	//   28: mov rax, rdx
	//   2b: shl rax, 0x11
	//   2f: xor rax, rdx
	//   32: mov qword ptr [rdi-0x8], rax
	//   36: cmp rcx, rdi
	//   39: jnz 0x10
	{Name: "textbook/x86_64/xorshift_fill", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: uint64_t xorshift_fill(uint64_t *out, int n, uint64_t x) { for (int i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; out[i] = x; } return x; }", Hex: "4889c24883c70848c1e20d4831d04889c248c1ea074831c24889d048c1e0114831d0488947f84839f975d5"},
	// loop0: gcd_loop+0x10..0x20 mode 64
	//   10: mov rcx, rdx
	//   13: cqo
	//   15: idiv rcx
	//   18: mov rax, rcx
	//   1b: test rdx, rdx
	//   1e: jnz 0x10
	{Name: "textbook/x86_64/gcd_loop", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: long gcd_loop(long a, long b) { while (b) { long t = a % b; a = b; b = t; } return a; }", Hex: "4889d1489948f7f94889c84885d275f0"},
	// loop0: count_matches+0x10..0x22 mode 64
	//   10: xor ecx, ecx
	//   12: cmp dword ptr [rdi], edx
	//   14: setz cl
	//   17: add rdi, 0x4
	//   1b: add eax, ecx
	//   1d: cmp rsi, rdi
	//   20: jnz 0x10
	{Name: "textbook/x86_64/count_matches", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: int count_matches(const int *a, int n, int v) { int c = 0; for (int i = 0; i < n; i++) c += a[i] == v; return c; }", Hex: "31c939170f94c14883c70401c84839fe75ee"},
	// loop0: hash_mix+0x20..0x34 mode 64
	//   20: xor rax, qword ptr [rdi]
	//   23: add rdi, 0x8
	//   27: imul rax, rdx
	//   2b: rol rax, 0x1f
	//   2f: cmp rdi, rcx
	//   32: jnz 0x20
	{Name: "textbook/x86_64/hash_mix", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: uint64_t hash_mix(const uint64_t *p, int n) { uint64_t h = 0; for (int i = 0; i < n; i++) { h ^= p[i]; h *= 0x9E3779B97F4A7C15ull; h = (h << 31) | (h >> 33); } return h; }", Hex: "4833074883c708480fafc248c1c01f4839cf75ec"},
	// loop0: dot_double+0x18..0x2f mode 64
	//   18: movsd xmm0, qword ptr [rdi+rax]
	//   1d: mulsd xmm0, qword ptr [rsi+rax]
	//   22: add rax, 0x8
	//   26: addsd xmm1, xmm0
	//   2a: cmp rdx, rax
	//   2d: jnz 0x18
	{Name: "textbook/x86_64/dot_double", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: double dot_double(const double *a, const double *b, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }", Hex: "f20f100407f20f5904064883c008f20f58c84839c275e9"},
	// loop0: sum_double+0x10..0x1d mode 64
	//   10: addsd xmm0, qword ptr [rdi]
	//   14: add rdi, 0x8
	//   18: cmp rdi, rax
	//   1b: jnz 0x10
	{Name: "textbook/x86_64/sum_double", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: double sum_double(const double *a, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }", Hex: "f20f58074883c7084839c775f3"},
	// loop0: saxpy+0x10..0x2c mode 64
	//   10: movss xmm1, dword ptr [rsi+rax]
	//   15: mulss xmm1, xmm0
	//   19: addss xmm1, dword ptr [rdi+rax]
	//   1e: movss dword ptr [rdi+rax], xmm1
	//   23: add rax, 0x4
	//   27: cmp rdx, rax
	//   2a: jnz 0x10
	{Name: "textbook/x86_64/saxpy", Mode: 64, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m64: void saxpy(float *y, const float *x, float a, int n) { for (int i = 0; i < n; i++) y[i] += a * x[i]; }", Hex: "f30f100c06f30f59c8f30f580c07f30f110c074883c0044839c275e4"},
	// loop0: dot_int+0x20..0x30 mode 32
	//   20: mov edx, dword ptr [esi+4*eax]
	//   23: imul edx, dword ptr [edi+4*eax]
	//   27: add eax, 0x1
	//   2a: add ecx, edx
	//   2c: cmp ebx, eax
	//   2e: jnz 0x20
	{Name: "textbook/i386/dot_int", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: int dot_int(const int *a, const int *b, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }", Hex: "8b14860faf148783c00101d139c375f0"},
	// loop0: chase+0x10..0x19 mode 32
	//   10: add edx, dword ptr [eax+0x4]
	//   13: mov eax, dword ptr [eax]
	//   15: test eax, eax
	//   17: jnz 0x10
	{Name: "textbook/i386/chase", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: long chase(const struct node *p) { long n = 0; while (p) { n += p->val; p = p->next; } return n; }", Hex: "0350048b0085c075f7"},
	// loop0: prefix_sum+0x18..0x24 mode 32
	//   18: mov edx, dword ptr [eax-0x4]
	//   1b: add dword ptr [eax], edx
	//   1d: add eax, 0x4
	//   20: cmp ecx, eax
	//   22: jnz 0x18
	{Name: "textbook/i386/prefix_sum", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: void prefix_sum(long *a, int n) { for (int i = 1; i < n; i++) a[i] += a[i - 1]; }", Hex: "8b50fc011083c00439c175f4"},
	// loop0: crc32_bitwise+0x28..0x3d mode 32
	//   28: mov ecx, eax
	//   2a: and eax, 0x1
	//   2d: neg eax
	//   2f: shr ecx, 0x1
	//   31: and eax, 0xedb88320
	//   36: xor eax, ecx
	//   38: sub edx, 0x1
	//   3b: jnz 0x28
	{Name: "textbook/i386/crc32_bitwise", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: uint32_t crc32_bitwise(const uint8_t *p, size_t n) { uint32_t crc = ~0u; while (n--) { crc ^= *p++; for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1)); } return ~crc; }", Hex: "89c183e001f7d8d1e9252083b8ed31c883ea0175eb"},
	// loop0: crc32_table+0x20..0x35 mode 32
	//   20: movzx ecx, byte ptr [edx]
	//   23: add edx, 0x1
	//   26: xor ecx, eax
	//   28: shr eax, 0x8
	//   2b: movzx ecx, cl
	//   2e: xor eax, dword ptr [esi+4*ecx]
	//   31: cmp edx, ebx
	//   33: jnz 0x20
	{Name: "textbook/i386/crc32_table", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: uint32_t crc32_table(const uint8_t *p, size_t n, const uint32_t *t) { uint32_t crc = ~0u; while (n--) crc = t[(crc ^ *p++) & 0xff] ^ (crc >> 8); return ~crc; }", Hex: "0fb60a83c20131c1c1e8080fb6c933048e39da75eb"},
	// loop0: popcount_kernighan+0x18..0x2f mode 32
	//   18: mov ecx, eax
	//   1a: mov ebx, edx
	//   1c: add ecx, 0xffffffff
	//   1f: adc ebx, 0xffffffff
	//   22: and eax, ecx
	//   24: add esi, 0x1
	//   27: and edx, ebx
	//   29: mov ebx, edx
	//   2b: or ebx, eax
	//   2d: jnz 0x18
	{Name: "textbook/i386/popcount_kernighan", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: int popcount_kernighan(uint64_t x) { int c = 0; while (x) { x &= x - 1; c++; } return c; }", Hex: "89c189d383c1ff83d3ff21c883c60121da89d309c375e9"},
	// loop0: bit_reverse+0x10..0x20 mode 32
	//   10: mov ebx, ecx
	//   12: add eax, eax
	//   14: shr ecx, 0x1
	//   16: and ebx, 0x1
	//   19: or eax, ebx
	//   1b: sub edx, 0x1
	//   1e: jnz 0x10
	{Name: "textbook/i386/bit_reverse", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: uint32_t bit_reverse(uint32_t x) { uint32_t r = 0; for (int i = 0; i < 32; i++) { r = (r << 1) | (x & 1); x >>= 1; } return r; }", Hex: "89cb01c0d1e983e30109d883ea0175f0"},
	// loop0: fnv1a+0x18..0x2a mode 32
	//   18: movzx ecx, byte ptr [edx]
	//   1b: add edx, 0x1
	//   1e: xor eax, ecx
	//   20: imul eax, eax, 0x1000193
	//   26: cmp ebx, edx
	//   28: jnz 0x18
	{Name: "textbook/i386/fnv1a", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: uint32_t fnv1a(const uint8_t *p, size_t n) { uint32_t h = 2166136261u; for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u; return h; }", Hex: "0fb60a83c20131c869c09301000139d375ee"},
	// loop0: naive_strlen+0x10..0x18 mode 32
	//   10: add eax, 0x1
	//   13: cmp byte ptr [eax], 0x0
	//   16: jnz 0x10
	{Name: "textbook/i386/naive_strlen", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: size_t naive_strlen(const char *s) { const char *p = s; while (*p) p++; return p - s; }", Hex: "83c00180380075f8"},
	// loop0: byte_copy+0x18..0x28 mode 32
	//   18: movzx ecx, byte ptr [eax]
	//   1b: add eax, 0x1
	//   1e: add edx, 0x1
	//   21: mov byte ptr [edx-0x1], cl
	//   24: cmp eax, ebx
	//   26: jnz 0x18
	{Name: "textbook/i386/byte_copy", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: void byte_copy(char *d, const char *s, size_t n) { for (size_t i = 0; i < n; i++) { __asm__(\"\" ::: \"memory\"); d[i] = s[i]; } }", Hex: "0fb60883c00183c201884aff39d875f0"},
	// loop0: bsearch_branchless+0x20..0x33 mode 32
	//   20: mov ecx, edx
	//   22: sar ecx, 0x1
	//   24: lea ebx, ptr [eax+4*ecx]
	//   27: cmp dword ptr [ebx], esi
	//   29: cmovl eax, ebx
	//   2c: sub edx, ecx
	//   2e: cmp edx, 0x1
	//   31: jnle 0x20
	{Name: "textbook/i386/bsearch_branchless", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: long bsearch_branchless(const long *a, long n, long key) { const long *base = a; while (n > 1) { long half = n / 2; base = base[half] < key ? base + half : base; n -= half; } return base - a; }", Hex: "89d1d1f98d1c8839330f4cc329ca83fa017fed"},
	// loop0: xorshift_fill+0x28..0x64 mode 32
	//   28: mov ecx, eax
	//   2a: mov ebx, edx
	//   2c: add ebp, 0x8
	//   2f: shld ebx, eax, 0xd
	//   33: shl ecx, 0xd
	//   36: xor ebx, edx
	//   38: xor ecx, eax
	//   3a: mov esi, ecx
	//   3c: mov edi, ebx
	//   3e: shrd esi, ebx, 0x7
	//   42: shr edi, 0x7
	//   45: xor esi, ecx
	//   47: xor edi, ebx
	//   49: mov eax, esi
	//   4b: mov edx, edi
	//   4d: shld edx, esi, 0x11
	//   51: shl eax, 0x11
	//   54: xor eax, esi
	//   56: xor edx, edi
	//   58: mov dword ptr [ebp-0x8], eax
	//   5b: mov dword ptr [ebp-0x4], edx
	//   5e: cmp dword ptr [esp+0x4], ebp
	//   62: jnz 0x28
	{Name: "textbook/i386/xorshift_fill", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: uint64_t xorshift_fill(uint64_t *out, int n, uint64_t x) { for (int i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; out[i] = x; } return x; }", Hex: "89c189d383c5080fa4c30dc1e10d31d331c189ce89df0facde07c1ef0731ce31df89f089fa0fa4f211c1e01131f031fa8945f88955fc396c240475c4"},
	// loop0: gcd_loop+0x10..0x1b mode 32
	//   10: mov ecx, edx
	//   12: cdq
	//   13: idiv ecx
	//   15: mov eax, ecx
	//   17: test edx, edx
	//   19: jnz 0x10
	{Name: "textbook/i386/gcd_loop", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: long gcd_loop(long a, long b) { while (b) { long t = a % b; a = b; b = t; } return a; }", Hex: "89d199f7f989c885d275f5"},
	// loop0: count_matches+0x20..0x30 mode 32
	//   20: xor ecx, ecx
	//   22: cmp dword ptr [eax], ebx
	//   24: setz cl
	//   27: add eax, 0x4
	//   2a: add edx, ecx
	//   2c: cmp esi, eax
	//   2e: jnz 0x20
	{Name: "textbook/i386/count_matches", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: int count_matches(const int *a, int n, int v) { int c = 0; for (int i = 0; i < n; i++) c += a[i] == v; return c; }", Hex: "31c939180f94c183c00401ca39c675f0"},
	// loop0: hash_mix+0x20..0x53 mode 32
	//   20: xor edx, dword ptr [ecx+0x4]
	//   23: xor eax, dword ptr [ecx]
	//   25: add ecx, 0x8
	//   28: imul ebx, edx, 0x7f4a7c15
	//   2e: mov dword ptr [esp], eax
	//   31: mov eax, dword ptr [esp]
	//   34: mov dword ptr [esp+0x4], edx
	//   38: imul edx, dword ptr [esp], 0x9e3779b9
	//   3f: add ebx, edx
	//   41: mul esi
	//   43: add edx, ebx
	//   45: mov ebx, eax
	//   47: shld eax, edx, 0x1f
	//   4b: shld edx, ebx, 0x1f
	//   4f: cmp ecx, edi
	//   51: jnz 0x20
	{Name: "textbook/i386/hash_mix", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: uint64_t hash_mix(const uint64_t *p, int n) { uint64_t h = 0; for (int i = 0; i < n; i++) { h ^= p[i]; h *= 0x9E3779B97F4A7C15ull; h = (h << 31) | (h >> 33); } return h; }", Hex: "335104330183c10869da157c4a7f8904248b042489542404691424b979379e01d3f7e601da89c30fa4d01f0fa4da1f39f975cd"},
	// loop0: dot_double+0x20..0x36 mode 32
	//   20: movsd xmm0, qword ptr [eax]
	//   24: mulsd xmm0, qword ptr [edx]
	//   28: add eax, 0x8
	//   2b: add edx, 0x8
	//   2e: addsd xmm1, xmm0
	//   32: cmp eax, ecx
	//   34: jnz 0x20
	{Name: "textbook/i386/dot_double", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32 -msse2 -mfpmath=sse: double dot_double(const double *a, const double *b, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }", Hex: "f20f1000f20f590283c00883c208f20f58c839c875ea"},
	// loop0: sum_double+0x20..0x2b mode 32
	//   20: addsd xmm0, qword ptr [eax]
	//   24: add eax, 0x8
	//   27: cmp eax, edx
	//   29: jnz 0x20
	{Name: "textbook/i386/sum_double", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32 -msse2 -mfpmath=sse: double sum_double(const double *a, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }", Hex: "f20f580083c00839d075f5"},
	// loop0: saxpy+0x20..0x3c mode 32
	//   20: movss xmm0, dword ptr [edx]
	//   24: add eax, 0x4
	//   27: add edx, 0x4
	//   2a: mulss xmm0, xmm1
	//   2e: addss xmm0, dword ptr [eax-0x4]
	//   33: movss dword ptr [eax-0x4], xmm0
	//   38: cmp eax, ecx
	//   3a: jnz 0x20
	{Name: "textbook/i386/saxpy", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32 -msse2 -mfpmath=sse: void saxpy(float *y, const float *x, float a, int n) { for (int i = 0; i < n; i++) y[i] += a * x[i]; }", Hex: "f30f100283c00483c204f30f59c1f30f5840fcf30f1140fc39c875e4"},
	// loop0: dot_double+0x20..0x30 mode 32
	//   20: fld st0, qword ptr [eax]
	//   22: fmul st0, qword ptr [edx]
	//   24: add eax, 0x8
	//   27: add edx, 0x8
	//   2a: faddp st1, st0
	//   2c: cmp eax, ecx
	//   2e: jnz 0x20
	{Name: "textbook/i386/dot_double_x87", Mode: 32, Source: "gcc 12.2 -O2 -mno-avx -mno-avx2 -fno-tree-vectorize -m32: double dot_double(const double *a, const double *b, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }", Hex: "dd00dc0a83c00883c208dec139c875f0"},
	// loop0: dot_int+0x30..0x71 mode 64
	//   30: movdqu xmm0, xmmword ptr [rcx+rax]
	//   35: movdqu xmm2, xmmword ptr [rsi+rax]
	//   3a: movdqu xmm1, xmmword ptr [rcx+rax]
	//   3f: movdqu xmm4, xmmword ptr [rsi+rax]
	//   44: add rax, 0x10
	//   48: psrlq xmm0, 0x20
	//   4d: psrlq xmm2, 0x20
	//   52: pmuludq xmm1, xmm4
	//   56: pmuludq xmm0, xmm2
	//   5a: pshufd xmm1, xmm1, 0x8
	//   5f: pshufd xmm0, xmm0, 0x8
	//   64: punpckldq xmm1, xmm0
	//   68: paddd xmm3, xmm1
	//   6c: cmp rax, rdx
	//   6f: jnz 0x30
	{Name: "textbook/x86_64/dot_int_vec", Mode: 64, Source: "gcc 12.2 -O3 -mno-avx -mno-avx2 -m64: int dot_int(const int *a, const int *b, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }", Hex: "f30f6f0401f30f6f1406f30f6f0c01f30f6f24064883c010660f73d020660f73d220660ff4cc660ff4c2660f70c908660f70c008660f62c8660ffed94839d075bf"},
	// loop0: count_matches+0x38..0x4d mode 64
	//   38: movdqu xmm1, xmmword ptr [rax]
	//   3c: add rax, 0x10
	//   40: pcmpeqd xmm1, xmm2
	//   44: psubd xmm0, xmm1
	//   48: cmp rdx, rax
	//   4b: jnz 0x38
	{Name: "textbook/x86_64/count_matches_vec", Mode: 64, Source: "gcc 12.2 -O3 -mno-avx -mno-avx2 -m64: int count_matches(const int *a, int n, int v) { int c = 0; for (int i = 0; i < n; i++) c += a[i] == v; return c; }", Hex: "f30f6f084883c010660f76ca660ffac14839c275eb"},
	// loop1: saxpy+0x70..0x8b mode 64
	//   70: movups xmm1, xmmword ptr [rsi+rax]
	//   74: movups xmm3, xmmword ptr [rcx+rax]
	//   78: mulps xmm1, xmm2
	//   7b: addps xmm1, xmm3
	//   7e: movups xmmword ptr [rcx+rax], xmm1
	//   82: add rax, 0x10
	//   86: cmp rax, rdi
	//   89: jnz 0x70
	{Name: "textbook/x86_64/saxpy_vec", Mode: 64, Source: "gcc 12.2 -O3 -mno-avx -mno-avx2 -m64: void saxpy(float *y, const float *x, float a, int n) { for (int i = 0; i < n; i++) y[i] += a * x[i]; }", Hex: "0f100c060f101c010f59ca0f58cb0f110c014883c0104839f875e5"},
	// loop0: dot_int+0x40..0x80 mode 32
	//   40: movdqu xmm0, xmmword ptr [eax]
	//   44: movdqu xmm2, xmmword ptr [edx]
	//   48: add eax, 0x10
	//   4b: add edx, 0x10
	//   4e: movdqu xmm1, xmmword ptr [eax-0x10]
	//   53: movdqu xmm4, xmmword ptr [edx-0x10]
	//   58: psrlq xmm0, 0x20
	//   5d: psrlq xmm2, 0x20
	//   62: pmuludq xmm1, xmm4
	//   66: pmuludq xmm0, xmm2
	//   6a: pshufd xmm1, xmm1, 0x8
	//   6f: pshufd xmm0, xmm0, 0x8
	//   74: punpckldq xmm1, xmm0
	//   78: paddd xmm3, xmm1
	//   7c: cmp eax, ecx
	//   7e: jnz 0x40
	{Name: "textbook/i386/dot_int_vec", Mode: 32, Source: "gcc 12.2 -O3 -mno-avx -mno-avx2 -m32 -msse2 -mfpmath=sse: int dot_int(const int *a, const int *b, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }", Hex: "f30f6f00f30f6f1283c01083c210f30f6f48f0f30f6f62f0660f73d020660f73d220660ff4cc660ff4c2660f70c908660f70c008660f62c8660ffed939c875c0"},
	// loop0: count_matches+0x40..0x53 mode 32
	//   40: movdqu xmm0, xmmword ptr [eax]
	//   44: add eax, 0x10
	//   47: pcmpeqd xmm0, xmm2
	//   4b: psubd xmm1, xmm0
	//   4f: cmp eax, edx
	//   51: jnz 0x40
	{Name: "textbook/i386/count_matches_vec", Mode: 32, Source: "gcc 12.2 -O3 -mno-avx -mno-avx2 -m32 -msse2 -mfpmath=sse: int count_matches(const int *a, int n, int v) { int c = 0; for (int i = 0; i < n; i++) c += a[i] == v; return c; }", Hex: "f30f6f0083c010660f76c2660ffac839d075ed"},
	// loop1: saxpy+0x78..0x92 mode 32
	//   78: movups xmm0, xmmword ptr [ebx]
	//   7b: movups xmm3, xmmword ptr [ecx]
	//   7e: add ecx, 0x10
	//   81: add ebx, 0x10
	//   84: mulps xmm0, xmm2
	//   87: addps xmm0, xmm3
	//   8a: movups xmmword ptr [ecx-0x10], xmm0
	//   8e: cmp ecx, edi
	//   90: jnz 0x78
	{Name: "textbook/i386/saxpy_vec", Mode: 32, Source: "gcc 12.2 -O3 -mno-avx -mno-avx2 -m32 -msse2 -mfpmath=sse: void saxpy(float *y, const float *x, float a, int n) { for (int i = 0; i < n; i++) y[i] += a * x[i]; }", Hex: "0f10030f101983c11083c3100f59c20f58c30f1141f039f975e6"},
	// loop0: __strchrnul_sse2+0xc8..0x11a mode 64 -- strchrnul main loop: 64 bytes per iteration, pxor/pminub/pcmpeqb/pmovmskb
	//   c8: add rdi, 0x40
	//   cc: movdqa xmm5, xmmword ptr [rdi]
	//   d0: movdqa xmm2, xmmword ptr [rdi+0x10]
	//   d5: movdqa xmm3, xmmword ptr [rdi+0x20]
	//   da: pxor xmm5, xmm1
	//   de: movdqa xmm4, xmmword ptr [rdi+0x30]
	//   e3: pxor xmm2, xmm1
	//   e7: pxor xmm3, xmm1
	//   eb: pminub xmm5, xmmword ptr [rdi]
	//   ef: pxor xmm4, xmm1
	//   f3: pminub xmm2, xmmword ptr [rdi+0x10]
	//   f8: pminub xmm3, xmmword ptr [rdi+0x20]
	//   fd: pminub xmm5, xmm2
	//   101: pminub xmm4, xmmword ptr [rdi+0x30]
	//   106: pminub xmm5, xmm3
	//   10a: pminub xmm5, xmm4
	//   10e: pcmpeqb xmm5, xmm6
	//   112: pmovmskb eax, xmm5
	//   116: test eax, eax
	//   118: jz 0xc8
	{Name: "glibc/x86_64/__strchrnul_sse2.loop0", Mode: 64, Source: "glibc 2.36 (Debian 12) in fixtures/bin/x86_64/stdio __strchrnul_sse2: strchrnul main loop: 64 bytes per iteration, pxor/pminub/pcmpeqb/pmovmskb", Hex: "4883c740660f6f2f660f6f5710660f6f5f20660fefe9660f6f6730660fefd1660fefd9660fda2f660fefe1660fda5710660fda5f20660fdaea660fda6730660fdaeb660fdaec660f74ee660fd7c585c074ae"},
	// loop0: __memcpy_sse2_unaligned_erms+0x140..0x16b mode 64 -- memcpy forward loop: 4 movups loads, 4 movaps stores
	//   140: movups xmm1, xmmword ptr [rsi]
	//   143: movups xmm2, xmmword ptr [rsi+0x10]
	//   147: movups xmm3, xmmword ptr [rsi+0x20]
	//   14b: movups xmm4, xmmword ptr [rsi+0x30]
	//   14f: sub rsi, -0x40
	//   153: movaps xmmword ptr [rdi], xmm1
	//   156: movaps xmmword ptr [rdi+0x10], xmm2
	//   15a: movaps xmmword ptr [rdi+0x20], xmm3
	//   15e: movaps xmmword ptr [rdi+0x30], xmm4
	//   162: sub rdi, -0x40
	//   166: cmp rdx, rdi
	//   169: jnbe 0x140
	{Name: "glibc/x86_64/__memcpy_sse2_unaligned_erms.loop0", Mode: 64, Source: "glibc 2.36 (Debian 12) in fixtures/bin/x86_64/stdio __memcpy_sse2_unaligned_erms: memcpy forward loop: 4 movups loads, 4 movaps stores", Hex: "0f100e0f1056100f105e200f1066304883eec00f290f0f2957100f295f200f2967304883efc04839fa77d5"},
	// loop0: __memset_sse2_unaligned_erms+0x80..0x98 mode 64 -- memset loop: 4 movaps stores
	//   80: movaps xmmword ptr [rdx], xmm0
	//   83: movaps xmmword ptr [rdx+0x10], xmm0
	//   87: movaps xmmword ptr [rdx+0x20], xmm0
	//   8b: movaps xmmword ptr [rdx+0x30], xmm0
	//   8f: sub rdx, -0x40
	//   93: cmp rdx, rdi
	//   96: jb 0x80
	{Name: "glibc/x86_64/__memset_sse2_unaligned_erms.loop0", Mode: 64, Source: "glibc 2.36 (Debian 12) in fixtures/bin/x86_64/malloc __memset_sse2_unaligned_erms: memset loop: 4 movaps stores", Hex: "0f29020f2942100f2942200f2942304883eac04839fa72e8"},
	// loop0: __mpn_mul_1+0xa0..0x102 mode 64 -- multi-precision multiply, unrolled by 4: mul, add/adc chains
	//   a0: mov qword ptr [rdi+8*r11], r10
	//   a4: add r9, rax
	//   a7: mov rax, qword ptr [rsi+8*r11]
	//   ab: adc r8, rdx
	//   ae: mov r10d, 0x0
	//   b4: mul rcx
	//   b7: mov qword ptr [rdi+8*r11+0x8], r9
	//   bc: add r8, rax
	//   bf: adc rbx, rdx
	//   c2: mov rax, qword ptr [rsi+8*r11+0x8]
	//   c7: mul rcx
	//   ca: mov qword ptr [rdi+8*r11+0x10], r8
	//   cf: add rbx, rax
	//   d2: adc r10, rdx
	//   d5: mov rax, qword ptr [rsi+8*r11+0x10]
	//   da: mul rcx
	//   dd: mov qword ptr [rdi+8*r11+0x18], rbx
	//   e2: mov r8d, 0x0
	//   e8: mov rbx, r8
	//   eb: add r10, rax
	//   ee: mov rax, qword ptr [rsi+8*r11+0x18]
	//   f3: mov r9, r8
	//   f6: adc r9, rdx
	//   f9: mul rcx
	//   fc: add r11, 0x4
	//   100: js 0xa0
	{Name: "glibc/x86_64/__mpn_mul_1.loop0", Mode: 64, Source: "glibc 2.36 (Debian 12) in fixtures/bin/x86_64/stdio __mpn_mul_1: multi-precision multiply, unrolled by 4: mul, add/adc chains", Hex: "4e8914df4901c14a8b04de4911d041ba0000000048f7e14e894cdf084901c04811d34a8b44de0848f7e14e8944df104801c34911d24a8b44de1048f7e14a895cdf1841b8000000004c89c34901c24a8b44de184d89c14911d148f7e14983c304789e"},
	// loop0: __mpn_divrem+0x270..0x289 mode 64 -- multi-precision divide by one limb: div r64
	//   270: mov rax, qword ptr [rsi+8*rdi]
	//   274: sub rdi, 0x1
	//   278: sub r8, 0x8
	//   27c: div rcx
	//   27f: mov qword ptr [r8+0x8], rax
	//   283: cmp rdi, -0x1
	//   287: jnz 0x270
	{Name: "glibc/x86_64/__mpn_divrem.loop0", Mode: 64, Source: "glibc 2.36 (Debian 12) in fixtures/bin/x86_64/stdio __mpn_divrem: multi-precision divide by one limb: div r64", Hex: "488b04fe4883ef014983e80848f7f1498940084883ffff75e7"},
	// loop0: __printf_fp_l+0x928..0x940 mode 64 -- printf %f: limb copy loop
	//   928: mov rdx, qword ptr [rsi+8*rax]
	//   92c: mov qword ptr [rdi+8*rax], rdx
	//   930: mov rdx, qword ptr [rbp-0x78]
	//   934: add rax, 0x1
	//   938: sub rdx, rcx
	//   93b: cmp rdx, rax
	//   93e: jnle 0x928
	{Name: "glibc/x86_64/__printf_fp_l.loop0", Mode: 64, Source: "glibc 2.36 (Debian 12) in fixtures/bin/x86_64/stdio __printf_fp_l: printf %f: limb copy loop", Hex: "488b14c6488914c7488b55884883c0014829ca4839c27fe8"},
	// loop0: _IO_default_xsputn+0xd8..0xe9 mode 64 -- stdio byte copy loop
	//   d8: movzx edx, byte ptr [r12+rax]
	//   dd: mov byte ptr [rdi+rax], dl
	//   e0: add rax, 0x1
	//   e4: cmp rbx, rax
	//   e7: jnz 0xd8
	{Name: "glibc/x86_64/_IO_default_xsputn.loop0", Mode: 64, Source: "glibc 2.36 (Debian 12) in fixtures/bin/x86_64/stdio _IO_default_xsputn: stdio byte copy loop", Hex: "410fb614048814074883c0014839c375ef"},
	// loop0: __mpn_mul_1+0x20..0x32 mode 32 -- multi-precision multiply: mul, add/adc
	//   20: mov eax, dword ptr [esi+4*ecx]
	//   23: mul ebx
	//   25: add eax, ebp
	//   27: mov dword ptr [edi+4*ecx], eax
	//   2a: adc edx, 0x0
	//   2d: mov ebp, edx
	//   2f: inc ecx
	//   30: jnz 0x20
	{Name: "glibc/i386/__mpn_mul_1.loop0", Mode: 32, Source: "glibc 2.36 (Debian 12) in fixtures/bin/i386/stdio __mpn_mul_1: multi-precision multiply: mul, add/adc", Hex: "8b048ef7e301e889048f83d20089d54175ee"},
	// loop1: __memset_sse2+0x240..0x289 mode 32 -- memset loop: 2 prefetcht0, 8 movdqa stores
	//   240: prefetcht0 zmmword ptr [edx+0x3c0]
	//   247: prefetcht0 zmmword ptr [edx+0x380]
	//   24e: sub ebx, 0x80
	//   254: movdqa xmmword ptr [edx], xmm0
	//   258: movdqa xmmword ptr [edx+0x10], xmm0
	//   25d: movdqa xmmword ptr [edx+0x20], xmm0
	//   262: movdqa xmmword ptr [edx+0x30], xmm0
	//   267: movdqa xmmword ptr [edx+0x40], xmm0
	//   26c: movdqa xmmword ptr [edx+0x50], xmm0
	//   271: movdqa xmmword ptr [edx+0x60], xmm0
	//   276: movdqa xmmword ptr [edx+0x70], xmm0
	//   27b: add edx, 0x80
	//   281: cmp ebx, 0x80
	//   287: jnb 0x240
	{Name: "glibc/i386/__memset_sse2.loop1", Mode: 32, Source: "glibc 2.36 (Debian 12) in fixtures/bin/i386/malloc __memset_sse2: memset loop: 2 prefetcht0, 8 movdqa stores", Hex: "0f188ac00300000f188a8003000081eb80000000660f7f02660f7f4210660f7f4220660f7f4230660f7f4240660f7f4250660f7f4260660f7f427081c28000000081fb8000000073b7"},
	// loop0: __mpn_divrem+0x230..0x243 mode 32 -- multi-precision divide by one limb: div r32
	//   230: mov eax, dword ptr [ebx+4*esi]
	//   233: sub esi, 0x1
	//   236: sub edi, 0x4
	//   239: div ecx
	//   23b: mov dword ptr [edi+0x4], eax
	//   23e: cmp esi, 0xffffffff
	//   241: jnz 0x230
	{Name: "glibc/i386/__mpn_divrem.loop0", Mode: 32, Source: "glibc 2.36 (Debian 12) in fixtures/bin/i386/stdio __mpn_divrem: multi-precision divide by one limb: div r32", Hex: "8b04b383ee0183ef04f7f189470483feff75ed"},
	// loop3: __printf_fp_l+0xfd0..0xfdf mode 32 -- printf %f: limb copy loop, pointer walk
	//   fd0: mov ecx, dword ptr [eax]
	//   fd2: sub edx, 0x4
	//   fd5: sub eax, 0x4
	//   fd8: mov dword ptr [edx+0x4], ecx
	//   fdb: cmp ebx, edx
	//   fdd: jb 0xfd0
	{Name: "glibc/i386/__printf_fp_l.loop3", Mode: 32, Source: "glibc 2.36 (Debian 12) in fixtures/bin/i386/stdio __printf_fp_l: printf %f: limb copy loop, pointer walk", Hex: "8b0883ea0483e804894a0439d372f1"},
	// loop5: __printf_fp_l+0x1038..0x105b mode 32 -- printf %f: digit loop with mul and idiv
	//   1038: mov eax, 0xcccccccd
	//   103d: mov edi, ecx
	//   103f: add esi, 0x4
	//   1042: mul ecx
	//   1044: mov eax, ebx
	//   1046: shr edx, 0x3
	//   1049: mov ecx, edx
	//   104b: cdq
	//   104c: idiv ecx
	//   104e: add eax, 0x30
	//   1051: mov ebx, edx
	//   1053: mov dword ptr [esi-0x4], eax
	//   1056: cmp edi, 0x6d
	//   1059: jnle 0x1038
	{Name: "glibc/i386/__printf_fp_l.loop5", Mode: 32, Source: "glibc 2.36 (Debian 12) in fixtures/bin/i386/stdio __printf_fp_l: printf %f: digit loop with mul and idiv", Hex: "b8cdcccccc89cf83c604f7e189d8c1ea0389d199f7f983c03089d38946fc83ff6d7fdd"},
}
