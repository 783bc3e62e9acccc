/*
 * Instruction counting on the MPS2 boards (mps2-an386, mps2-an500) with CMSDK APB timer 0.
 *
 * QEMU has no cycle model, but run with `-icount shift=0` every guest instruction advances
 * virtual time by exactly 1 ns, and this timer is clocked from virtual time at 25 MHz:
 * one tick = 40 instructions. The result is exact to 40 instructions and identical across runs.
 */
#include <stdint.h>

#include "board.h"

#define TIMER_BASE 0x40000000u
#define TIMER_HZ 25000000u
#define NS_PER_INSTRUCTION 1u /* -icount shift=0 */

typedef struct {
    volatile uint32_t ctrl;
    volatile uint32_t value;
    volatile uint32_t reload;
    volatile uint32_t intstatus;
} cmsdk_timer_t;

#define TIMER ((cmsdk_timer_t *)TIMER_BASE)

static uint32_t start_value;

/* noipa: the compiler must neither inline nor reorder these around the measured call. */
__attribute__((noipa)) void board_timer_start(void)
{
    /* Free-running down-counter over the full 32 bits: 171 s of guest time before it wraps. */
    TIMER->ctrl = 0;
    TIMER->reload = 0xFFFFFFFFu;
    TIMER->value = 0xFFFFFFFFu;
    TIMER->ctrl = 1u;
    start_value = TIMER->value;
}

__attribute__((noipa)) int board_timer_stop(uint64_t *instructions)
{
    const uint32_t ticks = start_value - TIMER->value;
    *instructions = (uint64_t)ticks * (1000000000u / TIMER_HZ) / NS_PER_INSTRUCTION;
    return 1;
}
