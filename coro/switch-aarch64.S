/* Context switch for aarch64, AAPCS64.
 *
 * void *coro__switch(void **save_sp, void *to_sp, void *transfer)
 *   x0 = save_sp, x1 = to_sp, x2 = transfer
 *
 * Only the callee-saved state has to survive a switch: x19-x28, the frame
 * pointer x29, the link register x30, the low halves of v8-v15 (d8-d15) and
 * sp itself (kept in *save_sp). FPCR (rounding mode, flush-to-zero) is
 * preserved too, so a coroutine that changes it does not change it for the
 * others. x18 is the platform register and is left alone. Frame, 176 bytes
 * (a multiple of 16, as sp must stay aligned), low to high:
 *
 *   [0] x19 x20  [16] x21 x22  [32] x23 x24  [48] x25 x26  [64] x27 x28
 *   [80] x29 x30  [96] d8 d9  [112] d10 d11  [128] d12 d13  [144] d14 d15
 *   [160] FPCR  [168] pad
 *
 * sched.c builds the same frame for a new coroutine, with x19 = its struct
 * coro, x29 = 0 and x30 = coro__entry.
 */
	.text

	.globl	coro__switch
	.hidden	coro__switch
	.type	coro__switch, %function
	.p2align 4
coro__switch:
	.cfi_startproc
	sub	sp, sp, #176
	.cfi_adjust_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	.cfi_rel_offset x29, 80
	.cfi_rel_offset x30, 88
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]

	/* The other stack holds a frame of the same shape, so the CFI above
	 * stays true after sp changes. */
	mov	x10, sp
	str	x10, [x0]
	mov	sp, x1

	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	/* Writing FPCR can be slow on some cores: skip it when equal. */
	ldr	x10, [sp, #160]
	cmp	x9, x10
	b.eq	1f
	msr	fpcr, x10
1:
	add	sp, sp, #176
	.cfi_adjust_cfa_offset -176
	mov	x0, x2
	ret
	.cfi_endproc
	.size	coro__switch, .-coro__switch

/* First "return" of a new coroutine; sp is 16-byte aligned here. The link
 * register is marked undefined so unwinders stop at the coroutine's bottom
 * frame. */
	.globl	coro__entry
	.hidden	coro__entry
	.type	coro__entry, %function
	.p2align 4
coro__entry:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x19
	bl	coro__trampoline
	brk	#0x1		/* coro__trampoline never returns */
	.cfi_endproc
	.size	coro__entry, .-coro__entry

	.section .note.GNU-stack,"",%progbits
