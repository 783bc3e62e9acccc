/*
 * Stack high-water mark by painting: the linker reserves a fixed stack region at the top of
 * RAM (_sstack.._estack); we fill its unused part with a pattern and later look for the lowest
 * word that no longer holds it. QEMU offers no tracing we could use instead.
 */
#include <stdint.h>

#include "board.h"

extern uint32_t _sstack, _estack;

#define STACK_PAINT 0xC5AC5AC5u

static int painted;         /* set once Reset_Handler has painted for the first time */
static uint32_t program_peak; /* deepest use of the whole stack seen so far, in bytes */
static int overflowed;

static const volatile uint32_t *deepest_word(void)
{
    const volatile uint32_t *word = &_sstack;
    while (word < &_estack && *word == STACK_PAINT) {
        ++word;
    }
    return word;
}

static void update_program_peak(const volatile uint32_t *deepest)
{
    const uint32_t total = (uint32_t)((uintptr_t)&_estack - (uintptr_t)deepest);
    if (total > program_peak) {
        program_peak = total;
    }
    /* The bottom word itself was overwritten: whatever lies below was probably hit as well. */
    if (deepest == &_sstack) {
        overflowed = 1;
    }
}

/* board_stack_mark repaints; remember what the stack went through before that happens. */
static void __attribute__((used, noipa)) remember_before_repaint(void)
{
    if (painted) {
        update_program_peak(deepest_word());
    }
    painted = 1;
}

/*
 * Naked so that no prologue moves sp: after the bookkeeping call everything from _sstack up to
 * the caller's sp is free to paint, and the returned sp is exactly the caller's.
 */
uintptr_t __attribute__((naked)) board_stack_mark(void)
{
    __asm volatile(
        "push {r4, lr}\n"
        "bl remember_before_repaint\n"
        "pop {r4, lr}\n"
        "ldr r1, =_sstack\n"
        "ldr r2, =0xC5AC5AC5\n"
        "mov r0, sp\n"
        "1:\n"
        "cmp r1, r0\n"
        "bhs 2f\n"
        "str r2, [r1], #4\n"
        "b 1b\n"
        "2:\n"
        "bx lr\n"
        ".ltorg\n");
}

int board_stack_peak(uintptr_t mark, uint32_t *below_mark, uint32_t *total)
{
    const volatile uint32_t *deepest = deepest_word();
    const uintptr_t address = (uintptr_t)deepest;
    update_program_peak(deepest);
    *below_mark = address < mark ? (uint32_t)(mark - address) : 0u;
    *total = program_peak;
    return overflowed ? -1 : 1;
}
