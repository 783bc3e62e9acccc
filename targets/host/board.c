/*
 * Host build: nothing to count. Wall-clock time on a shared build machine is noise, and a
 * native stack has no reserved region we could paint, so both probes report "unsupported".
 */
#include <stdint.h>

#include "board.h"

void board_timer_start(void) {}

int board_timer_stop(uint64_t *instructions)
{
    *instructions = 0;
    return 0;
}

uintptr_t board_stack_mark(void)
{
    return 0;
}

int board_stack_peak(uintptr_t mark, uint32_t *below_mark, uint32_t *total)
{
    (void)mark;
    *below_mark = 0;
    *total = 0;
    return 0;
}
