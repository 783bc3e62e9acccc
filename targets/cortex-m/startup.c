/*
 * Bare-metal start-up for the QEMU Cortex-M boards (mps2-an386, mps2-an500, mps3-an547).
 *
 * We link with -nostartfiles, so this file replaces crt0: it owns the vector table, prepares
 * memory the way the C standard promises (.data copied, .bss zeroed), turns the FPU on before
 * any compiled code may touch it, paints the stack so stack_probe.c can find the high-water
 * mark, and turns a fault into a readable message plus a non-zero exit instead of a QEMU lockup.
 */
#include <stdint.h>
#include <stdlib.h>

#include "board.h"

/* Linker-script symbols (targets/cortex-m/linker.ts). */
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;

extern void initialise_monitor_handles(void);
extern int main(void);

void Reset_Handler(void);
void Fault_Handler(void);

/* Exit statuses shared with targets/harness/main.c (0 = success, 1 = invoke failed). */
#define FAULT_EXIT_STATUS 2
#define STACK_OVERFLOW_EXIT_STATUS 3

#define CFSR (*(volatile uint32_t *)0xE000ED28u)
#define CFSR_STKOF (1u << 20) /* v8-M UsageFault: MSPLIM was crossed */

/* Semihosting: the only channel to the host that works before (and after) newlib is usable. */
#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static int semihost(int op, const void *arg)
{
    register int r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void write_hex(const char *label, uint32_t value)
{
    char text[32];
    unsigned pos = 0;
    while (*label != '\0' && pos < 16) {
        text[pos++] = *label++;
    }
    text[pos++] = '0';
    text[pos++] = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) {
        text[pos++] = "0123456789abcdef"[(value >> shift) & 0xFu];
    }
    text[pos++] = '\n';
    text[pos] = '\0';
    semihost(SYS_WRITE0, text);
}

/* Never returns: SYS_EXIT_EXTENDED is what carries the status to qemu's exit code. */
static void __attribute__((noreturn)) die(uint32_t status)
{
    uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, status };
    for (;;) {
        semihost(SYS_EXIT_EXTENDED, block);
    }
}

/*
 * Every exception we do not expect lands here (we enable no interrupts). Report where the
 * core was, from the frame the hardware stacked, so a bad kernel is a message, not a lockup.
 */
/* noipa: the naked handler branches to this exact symbol, so no IPA clone may replace it. */
static void __attribute__((used, noipa, noreturn)) report_fault(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    if ((CFSR & CFSR_STKOF) != 0u) {
        /* Same report as the stack paint gives on cores without a stack limit register. */
        semihost(SYS_WRITE0, "error stack overflow: the reserved stack region was exhausted (MSPLIM)\n");
        die(STACK_OVERFLOW_EXIT_STATUS);
    }
    semihost(SYS_WRITE0, "fatal: CPU fault\n");
    write_hex("exception ", ipsr & 0x1FFu);
    write_hex("pc ", frame[6]);
    write_hex("lr ", frame[5]);
    write_hex("cfsr ", CFSR);
    write_hex("hfsr ", *(volatile uint32_t *)0xE000ED2Cu);
    write_hex("bfar ", *(volatile uint32_t *)0xE000ED38u);
    write_hex("exc_return ", exc_return);
    die(FAULT_EXIT_STATUS);
}

#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define HAS_STACK_LIMIT 1
/* After a stack-limit fault the handler itself needs room below the limit to report it. */
#define LIFT_STACK_LIMIT "movs r0, #0\nmsr msplim, r0\n"
#else
#define HAS_STACK_LIMIT 0
#define LIFT_STACK_LIMIT ""
#endif

/* Naked: pick the stack the faulting code was using before any compiled prologue runs. */
void __attribute__((naked)) Fault_Handler(void)
{
    __asm volatile(
        LIFT_STACK_LIMIT
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b report_fault\n");
}

typedef void (*vector_t)(void);

/* Only the 16 architectural entries: nothing enables an external interrupt. */
__attribute__((section(".isr_vector"), used)) const vector_t tf_vector_table[16] = {
    (vector_t)(uintptr_t)&_estack,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault (v8-M) */
    0, 0, 0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};

/* newlib's exit() calls these; there are no static constructors in C. */
void _init(void) {}
void _fini(void) {}

void __attribute__((noreturn)) Reset_Handler(void)
{
    /* CP10/CP11 full access: -mfloat-abi=hard code (and MVE on the M55) traps without it. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm volatile("dsb\n isb" ::: "memory");

#if HAS_STACK_LIMIT
    /* v8-M traps a stack overflow in hardware (QEMU implements MSPLIM): fail, don't corrupt. */
    __asm volatile("msr msplim, %0" ::"r"(&_sstack));
#endif

    /* volatile so GCC does not turn the loops into memcpy/memset before memory is sane. */
    volatile uint32_t *src = &_sidata;
    for (volatile uint32_t *dst = &_sdata; dst < &_edata; ++dst) {
        *dst = *src++;
    }
    for (volatile uint32_t *dst = &_sbss; dst < &_ebss; ++dst) {
        *dst = 0;
    }

    (void)board_stack_mark();
    initialise_monitor_handles();
    exit(main());
}
