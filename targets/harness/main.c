/*
 * Target-independent test harness: runs the compiled model on every input of the generated
 * run_inputs.h and prints what targets/run.ts parses, one fact per line:
 *
 *   out <input#> <output#> <hex bytes>     one line per output tensor
 *   instructions <input#> <n>              guest instructions of one tf_model_invoke (QEMU only)
 *   stack <bytes>                          deepest stack below the caller of tf_model_invoke
 *   stack_total <bytes>                    deepest use of the whole reserved stack (QEMU only)
 *   error <text>                           (stderr) then a non-zero exit status
 *
 * Board specifics (instruction counter, stack probe) sit behind board.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "board.h"
#include "model.h"
#include "run_inputs.h"

/* noipa is GCC's; clang (a host cc elsewhere) only knows noinline, which is enough there. */
#if defined(__clang__)
#define TF_NOIPA __attribute__((noinline))
#else
#define TF_NOIPA __attribute__((noipa))
#endif

/* Exit statuses; 2 is a CPU fault (targets/cortex-m/startup.c). */
#define EXIT_INVOKE_FAILED 1
#define EXIT_STACK_OVERFLOW 3

static int8_t output[TF_MODEL_OUTPUT_BYTES] __attribute__((aligned(8)));

/* A static stdout buffer: newlib would otherwise malloc one from a heap we do not budget. */
static char stdout_buffer[256];

/*
 * noipa + memory clobbers: the compiler may neither inline the model into the measured region
 * nor move any of its work across the timer reads.
 */
static TF_NOIPA int measured_invoke(const int8_t *input, uint64_t *instructions,
                                                  int *counted)
{
    board_timer_start();
    __asm__ volatile("" ::: "memory");
    const int status = tf_model_invoke(input, output);
    __asm__ volatile("" ::: "memory");
    *counted = board_timer_stop(instructions);
    return status;
}

/* newlib-nano's printf has no %llu; instruction counts can exceed 32 bits. */
static void print_u64(uint64_t value)
{
    char digits[21];
    int pos = (int)sizeof digits;
    digits[--pos] = '\0';
    do {
        digits[--pos] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value != 0u);
    fputs(&digits[pos], stdout);
}

static void print_outputs(unsigned input_index)
{
    unsigned offset = 0;
    for (unsigned k = 0; k < TF_MODEL_OUTPUT_COUNT; ++k) {
        printf("out %u %u ", input_index, k);
        for (uint32_t i = 0; i < tf_run_output_bytes[k]; ++i) {
            printf("%02x", (unsigned)(uint8_t)output[offset + i]);
        }
        putchar('\n');
        offset += tf_run_output_bytes[k];
    }
}

int main(void)
{
    setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer);

    uint32_t invoke_stack = 0;
    uint32_t total_stack = 0;
    int stack_state = 0;

    tf_model_init();
    for (unsigned n = 0; n < TF_RUN_INPUT_COUNT; ++n) {
        uint64_t instructions = 0;
        int counted = 0;
        const uintptr_t mark = board_stack_mark();
        const int status = measured_invoke(tf_run_inputs[n], &instructions, &counted);
        uint32_t below_mark = 0;
        stack_state = board_stack_peak(mark, &below_mark, &total_stack);
        if (below_mark > invoke_stack) {
            invoke_stack = below_mark;
        }
        if (status != 0) {
            fflush(stdout);
            fprintf(stderr, "error tf_model_invoke returned %d for input %u\n", status, n);
            return EXIT_INVOKE_FAILED;
        }
        print_outputs(n);
        if (counted) {
            printf("instructions %u ", n);
            print_u64(instructions);
            putchar('\n');
        }
    }

    /* One more look so the printing of the last outputs counts towards stack_total. */
    const uintptr_t mark = board_stack_mark();
    uint32_t unused = 0;
    stack_state = board_stack_peak(mark, &unused, &total_stack);
    if (stack_state != 0) {
        printf("stack %lu\n", (unsigned long)invoke_stack);
        printf("stack_total %lu\n", (unsigned long)total_stack);
    }
    fflush(stdout);
    if (stack_state < 0) {
        fprintf(stderr, "error stack overflow: the reserved stack region was exhausted\n");
        return EXIT_STACK_OVERFLOW;
    }
    return 0;
}
