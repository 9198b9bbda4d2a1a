/* Context switch for x86-64, System V ABI.
 *
 * void *coro__switch(void **save_sp, void *to_sp, void *transfer)
 *   rdi = save_sp, rsi = to_sp, rdx = transfer
 *
 * A switch is an ordinary call as far as the compiler knows, so only the
 * callee-saved state has to survive it: rbx, rbp, r12-r15, plus the control
 * halves of the FP state that the ABI says are preserved across calls, the
 * MXCSR control bits and the x87 control word (a coroutine that changes the
 * rounding mode must not change it for the others). Frame, low to high:
 *
 *   [0] MXCSR (4 bytes)  [4] x87 control word (2 bytes)  [6] pad
 *   [8] r15  [16] r14  [24] r13  [32] r12  [40] rbx  [48] rbp  [56] return
 *
 * sched.c builds the same frame for a new coroutine, with r12 = its struct
 * coro and the return address = coro__entry.
 */
	.text

	.globl	coro__switch
	.hidden	coro__switch
	.type	coro__switch, @function
	.p2align 4
coro__switch:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)

	/* The other stack holds a frame of the same shape, so the CFI above
	 * stays true after the stack pointer changes. */
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp

	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	movq	%rdx, %rax
	ret
	.cfi_endproc
	.size	coro__switch, .-coro__switch

/* First "return" of a new coroutine. The stack pointer is 16-byte aligned
 * here, as the call below requires. The return address is marked undefined
 * so debuggers and unwinders stop at the coroutine's bottom frame instead of
 * walking into garbage. */
	.globl	coro__entry
	.hidden	coro__entry
	.type	coro__entry, @function
	.p2align 4
coro__entry:
	.cfi_startproc
	.cfi_undefined %rip
	movq	%r12, %rdi
	call	coro__trampoline@PLT
	ud2			/* coro__trampoline never returns */
	.cfi_endproc
	.size	coro__entry, .-coro__entry

	.section .note.GNU-stack,"",%progbits
