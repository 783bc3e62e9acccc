/*
 * Instruction counting on mps3-an547 (Corstone SSE-300), which has no CMSDK timer clocked from
 * the system clock (its only CMSDK timer runs at 32 kHz). Instead we read the SSE-300 system
 * counter through system timer 0: a 64-bit count at 32 MHz of QEMU virtual time. With
 * `-icount shift=0` one guest instruction = 1 ns, so one tick = 31.25 instructions.
 */
#include <stdint.h>

#include "board.h"

#define COUNTER_CONTROL 0x58100000u /* CNTCR, secure alias: we run in Secure state */
#define TIMER0_BASE 0x48000000u     /* CNTPCT low/high at offsets 0 and 4 */
#define COUNTER_HZ 32000000u
#define NS_PER_INSTRUCTION 1u /* -icount shift=0 */

static uint64_t start_count;

static uint64_t read_count(void)
{
    volatile const uint32_t *cntpct = (volatile const uint32_t *)TIMER0_BASE;
    uint32_t high, low;
    do {
        high = cntpct[1];
        low = cntpct[0];
    } while (cntpct[1] != high); /* the low word carried between the two reads */
    return ((uint64_t)high << 32) | low;
}

/* noipa: the compiler must neither inline nor reorder these around the measured call. */
__attribute__((noipa)) void board_timer_start(void)
{
    *(volatile uint32_t *)COUNTER_CONTROL |= 1u; /* EN; the counter is off after reset */
    start_count = read_count();
}

__attribute__((noipa)) int board_timer_stop(uint64_t *instructions)
{
    const uint64_t ticks = read_count() - start_count;
    *instructions = ticks * 1000000000u / COUNTER_HZ / NS_PER_INSTRUCTION;
    return 1;
}
