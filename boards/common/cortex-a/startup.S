/* SPDX-License-Identifier: MIT */
/*
 * boards/common/cortex-a/startup.S: start-up code shared by the Cortex-A
 * boards (ARMv7-A, AArch32; today virt with a Cortex-A15).
 *
 * QEMU starts the core at the ELF entry, board_reset, in SVC mode (virt
 * with neither EL3 nor EL2) with the MMU off.  board_reset:
 *   - masks IRQ and FIQ, points VBAR at the vector table below;
 *   - gives the SVC mode the main stack (__stack_top) and the abort and
 *     undefined modes one shared small stack (__irq_stack_top);
 *   - enables VFP/Advanced SIMD when the float ABI uses them;
 *   - calls board_ca_start (board_ca.c: .data/.bss, MMU, board_init,
 *     constructors, main, exit).
 *
 * IRQs are taken on the SVC stack (srsdb/rfeia), so the IRQ mode needs no
 * stack of its own and handlers see one stack; they run with IRQs masked
 * (no nesting) and may use VFP (the caller-saved VFP registers and FPSCR
 * are saved).  Data and prefetch aborts and undefined instructions go to
 * board_ca_abort (board_ca.c), which reports and ends the run, or, for an
 * announced touch of memory the simulated gate protects, skips the
 * instruction and returns.
 *
 * Assembled in Arm state: exception vectors are entered in Arm state
 * (SCTLR.TE = 0); the C code may be Thumb-2 (interworking via blx).
 */
    .syntax unified
    .arch armv7-a
#if defined(__ARM_FP)
    .fpu neon-vfpv4
#endif

    .equ MODE_IRQ, 0x12
    .equ MODE_SVC, 0x13
    .equ MODE_ABT, 0x17
    .equ MODE_UND, 0x1B
    .equ PSR_I, 0x80
    .equ PSR_F, 0x40

    .section .vectors, "ax"
    .arm
    .align 5
    .global board_ca_vectors
board_ca_vectors:
    ldr pc, =board_reset
    ldr pc, =board_ca_undef_entry
    ldr pc, =board_ca_svc_entry
    ldr pc, =board_ca_pabt_entry
    ldr pc, =board_ca_dabt_entry
    b .
    ldr pc, =board_ca_irq_entry
    ldr pc, =board_ca_fiq_entry
    .ltorg

    .text
    .arm

    .global board_reset
    .type board_reset, %function
board_reset:
    cpsid if, #MODE_SVC
    ldr r0, =board_ca_vectors
    mcr p15, 0, r0, c12, c0, 0          /* VBAR */
    mrc p15, 0, r0, c1, c0, 0           /* SCTLR */
    bic r0, r0, #(1 << 13)              /* V: low vectors (VBAR) */
    bic r0, r0, #(1 << 30)              /* TE: exceptions in Arm state */
    mcr p15, 0, r0, c1, c0, 0
    isb
    /* abort and undefined modes: the small exception stack */
    ldr r1, =__irq_stack_top
    cps #MODE_ABT
    mov sp, r1
    cps #MODE_UND
    mov sp, r1
    cps #MODE_SVC
    ldr sp, =__stack_top
#if defined(__ARM_FP)
    mrc p15, 0, r0, c1, c0, 2           /* CPACR: cp10, cp11 full access */
    orr r0, r0, #(0xF << 20)
    mcr p15, 0, r0, c1, c0, 2
    isb
    mov r0, #0x40000000                 /* FPEXC.EN */
    vmsr fpexc, r0
#endif
    ldr r0, =board_ca_start
    blx r0
    b .
    .size board_reset, . - board_reset

/* IRQ: save on the SVC stack, call board_ca_irq with IRQs masked. */
    .type board_ca_irq_entry, %function
board_ca_irq_entry:
    sub lr, lr, #4
    srsdb sp!, #MODE_SVC                /* lr_irq, spsr_irq -> SVC stack */
    cps #MODE_SVC
    push {r0-r3, r12, lr}
#if defined(__ARM_FP)
    vpush {d0-d7}
    vpush {d16-d31}
    vmrs r0, fpscr
    push {r0, r1}
#endif
    and r1, sp, #4                      /* 8-byte align the stack for C */
    sub sp, sp, r1
    push {r1, r2}
    ldr r0, =board_ca_irq
    blx r0
    pop {r1, r2}
    add sp, sp, r1
#if defined(__ARM_FP)
    pop {r0, r1}
    vmsr fpscr, r0
    vpop {d16-d31}
    vpop {d0-d7}
#endif
    pop {r0-r3, r12, lr}
    rfeia sp!
    .size board_ca_irq_entry, . - board_ca_irq_entry

/* Aborts and undefined instructions, on the exception stack:
 * frame = r0-r3, r12, lr_svc?, no: r0-r3, r12, pc of the faulting
 * instruction; board_ca_abort(frame, kind, spsr) may move frame[5] past the
 * instruction and return, else it ends the run. */
.macro abort_entry name, kind, adjust
    .type \name, %function
\name:
    sub lr, lr, #\adjust
    push {r0-r3, r12, lr}
    mov r0, sp
    mov r1, #\kind
    mrs r2, spsr
    and r3, sp, #4
    sub sp, sp, r3
    push {r3, r12}
    ldr r12, =board_ca_abort
    blx r12
    pop {r3, r12}
    add sp, sp, r3
    ldm sp!, {r0-r3, r12, pc}^          /* return, CPSR <- SPSR */
    .size \name, . - \name
.endm

    abort_entry board_ca_dabt_entry, 0, 8
    abort_entry board_ca_pabt_entry, 1, 4
    abort_entry board_ca_undef_entry, 2, 0

    .type board_ca_svc_entry, %function
board_ca_svc_entry:
    push {r0-r3, r12, lr}
    mov r0, sp
    mov r1, #3
    mrs r2, spsr
    ldr r12, =board_ca_abort
    blx r12
    ldm sp!, {r0-r3, r12, pc}^
    .size board_ca_svc_entry, . - board_ca_svc_entry

    .type board_ca_fiq_entry, %function
board_ca_fiq_entry:
    ldr sp, =__irq_stack_top
    mov r0, sp
    mov r1, #4
    mrs r2, spsr
    ldr r12, =board_ca_abort
    blx r12
    b .
    .size board_ca_fiq_entry, . - board_ca_fiq_entry

    .ltorg
