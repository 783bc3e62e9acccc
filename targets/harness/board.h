/*
 * What the test harness needs from a board, so main.c stays free of target conditionals.
 * Implementations: targets/cortex-m/{board_timer.c,stack_probe.c} and targets/host/board.c.
 */
#ifndef TF_BOARD_H
#define TF_BOARD_H

#include <stdint.h>

/* Start counting guest instructions (a no-op where the board cannot count them). */
void board_timer_start(void);

/* Instructions since board_timer_start; returns 0 if this board cannot count, 1 otherwise. */
int board_timer_stop(uint64_t *instructions);

/* Paint the unused stack below the caller and return the caller's stack pointer (0 if the
 * board has no stack probe). The deepest stack use after this call is what board_stack_peak sees. */
uintptr_t board_stack_mark(void);

/* Deepest stack use since board_stack_mark(mark): bytes below mark and bytes below the top of
 * the stack. Returns 0 if unsupported, 1 if measured, -1 if the stack reservation overflowed. */
int board_stack_peak(uintptr_t mark, uint32_t *below_mark, uint32_t *total);

#endif
