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
 * When run_inputs.h defines TF_RUN_TRAIN_STEPS, it trains instead: step s runs
 * tf_model_train_step on input s % TF_RUN_INPUT_COUNT with its label, then the parameters are dumped:
 *
 *   loss <step#> <8 hex digits>            the loss's IEEE binary32 bits
 *   instructions <step#> <n>               guest instructions of one tf_model_train_step (QEMU only)
 *   params <offset> <hex bytes>            tf_model_read_params, a piece at a time, in order
 *   stack, stack_total                     as above, for tf_model_train_step
 *
 * Board specifics (instruction counter, stack probe) sit behind board.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#define EXIT_LABEL_REJECTED 4

/* A static stdout buffer: newlib would otherwise malloc one from a heap we do not budget. */
static char stdout_buffer[256];

/* Deepest stack below the measured call's caller, and of the whole reservation, over all calls. */
static uint32_t call_stack = 0;
static uint32_t total_stack = 0;
static int stack_state = 0;

static void measure_stack(uintptr_t mark)
{
    uint32_t below_mark = 0;
    stack_state = board_stack_peak(mark, &below_mark, &total_stack);
    if (below_mark > call_stack) {
        call_stack = below_mark;
    }
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

#ifdef TF_RUN_TRAIN_STEPS

/* noipa + memory clobbers, as for measured_invoke. */
static TF_NOIPA float measured_train_step(const int8_t *input, int32_t label, uint64_t *instructions,
                                          int *counted)
{
    board_timer_start();
    __asm__ volatile("" ::: "memory");
    const float loss = tf_model_train_step(input, label, tf_run_learning_rate);
    __asm__ volatile("" ::: "memory");
    *counted = board_timer_stop(instructions);
    return loss;
}

/* A piece at a time: a buffer for all the parameters would double their SRAM on the board. */
static void print_params(void)
{
    static const uint32_t total = TF_MODEL_PARAMS_BYTES;
    uint8_t piece[32];
    for (uint32_t offset = 0; offset < total; offset += (uint32_t)sizeof piece) {
        const uint32_t n = total - offset < sizeof piece ? total - offset : (uint32_t)sizeof piece;
        tf_model_read_params_range(offset, n, piece);
        printf("params %lu ", (unsigned long)offset);
        for (uint32_t i = 0; i < n; ++i) {
            printf("%02x", (unsigned)piece[i]);
        }
        putchar('\n');
    }
}

static int run(void)
{
    for (uint32_t step = 0; step < TF_RUN_TRAIN_STEPS; ++step) {
        const unsigned n = step % TF_RUN_INPUT_COUNT;
        uint64_t instructions = 0;
        int counted = 0;
        const uintptr_t mark = board_stack_mark();
        const float loss = measured_train_step(tf_run_inputs[n], tf_run_labels[n], &instructions, &counted);
        measure_stack(mark);
        uint32_t bits;
        memcpy(&bits, &loss, sizeof bits);
        /* -1.0f: the documented answer to a label outside [0, TF_MODEL_CLASSES). */
        if (bits == 0xbf800000u) {
            fflush(stdout);
            fprintf(stderr, "error tf_model_train_step rejected label %ld of input %u (classes: %d)\n",
                    (long)tf_run_labels[n], n, TF_MODEL_CLASSES);
            return EXIT_LABEL_REJECTED;
        }
        printf("loss %lu %08lx\n", (unsigned long)step, (unsigned long)bits);
        if (counted) {
            printf("instructions %lu ", (unsigned long)step);
            print_u64(instructions);
            putchar('\n');
        }
    }
    print_params();
    return 0;
}

#else

static int8_t output[TF_MODEL_OUTPUT_BYTES] __attribute__((aligned(8)));

/*
 * noipa + memory clobbers: the compiler may neither inline the model into the measured region
 * nor move any of its work across the timer reads.
 */
static TF_NOIPA int measured_invoke(const int8_t *input, uint64_t *instructions, int *counted)
{
    board_timer_start();
    __asm__ volatile("" ::: "memory");
    const int status = tf_model_invoke(input, output);
    __asm__ volatile("" ::: "memory");
    *counted = board_timer_stop(instructions);
    return status;
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

static int run(void)
{
    for (unsigned n = 0; n < TF_RUN_INPUT_COUNT; ++n) {
        uint64_t instructions = 0;
        int counted = 0;
        const uintptr_t mark = board_stack_mark();
        const int status = measured_invoke(tf_run_inputs[n], &instructions, &counted);
        measure_stack(mark);
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
    return 0;
}

#endif

int main(void)
{
    setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer);

    tf_model_init();
    const int status = run();
    if (status != 0) {
        return status;
    }

    /* One more look so the printing of the last results counts towards stack_total. */
    const uintptr_t mark = board_stack_mark();
    uint32_t unused = 0;
    stack_state = board_stack_peak(mark, &unused, &total_stack);
    if (stack_state != 0) {
        printf("stack %lu\n", (unsigned long)call_stack);
        printf("stack_total %lu\n", (unsigned long)total_stack);
    }
    fflush(stdout);
    if (stack_state < 0) {
        fprintf(stderr, "error stack overflow: the reserved stack region was exhausted\n");
        return EXIT_STACK_OVERFLOW;
    }
    return 0;
}
