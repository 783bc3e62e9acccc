/**
 * @fileoverview Board descriptors: which core flags, which QEMU machine, and which memory
 * regions a program may use. The FLASH/RAM regions ARE the memory budget: the generated linker
 * script uses them as-is, so an image over budget fails to link instead of silently running on
 * a simulator that has megabytes to spare.
 */

export type TargetName = 'cortex-m4' | 'cortex-m7' | 'cortex-m55' | 'host' | 'wasm';

export const TARGET_NAMES: readonly TargetName[] = ['cortex-m4', 'cortex-m7', 'cortex-m55', 'host', 'wasm'];

export interface MemoryRegion {
  /** First address of the region. */
  readonly origin: number;
  /** Bytes the program may use, i.e. the budget (at most what the machine has there). */
  readonly bytes: number;
}

export interface Board {
  readonly name: TargetName;
  readonly kind: 'qemu' | 'host' | 'wasm';
  /** One line for reports and error messages. */
  readonly description: string;
  /** Core / FPU selection for the C compiler (empty for host). */
  readonly cflags: readonly string[];
  /** `qemu-system-arm -M` machine (qemu boards only). */
  readonly qemuMachine?: string;
  /** Code + constants budget; .data's initial values are stored here too. */
  readonly flash: MemoryRegion;
  /** Data budget: .data + .bss (arena included) + the heap and stack reservations. */
  readonly ram: MemoryRegion;
  /** Fixed stack reserved at the top of `ram`, counted in the budget. */
  readonly stackBytes: number;
  /** Heap reserved below the stack, counted in the budget: newlib's stdio allocates its FILEs. */
  readonly heapBytes: number;
  /** What the machine physically has at the two origins; a budget may not exceed it. */
  readonly physical: { readonly flashBytes: number; readonly ramBytes: number };
  /** C file in targets/cortex-m/ implementing the instruction counter (qemu boards only). */
  readonly timerSource?: string;
}

const KIB = 1024;

/** The product brief's default target: 256 KB SRAM, 1 MB flash. */
export const DEFAULT_BUDGET = { sramBytes: 256 * KIB, flashBytes: 1024 * KIB } as const;

/**
 * Kernels here use little stack (no recursion, buffers live in the arena; the largest locals are
 * add_s8's two tables of rescaled codes, 2 KB, and conv2d_1x1_s8's extended pixel pair, up to 1 KB;
 * a paper model's training step peaks at 2.5 KB); newlib-nano printf in the harness needs about
 * 1 KB. Overflow is detected (stack paint; MSPLIM on the M55).
 */
const DEFAULT_STACK_BYTES = 4 * KIB;

/** newlib-nano's stdio mallocs ~440 bytes (its FILE structs) for the harness's printf. */
const DEFAULT_HEAP_BYTES = 1 * KIB;

const BOARDS: Readonly<Record<TargetName, Board>> = {
  'cortex-m4': {
    name: 'cortex-m4',
    kind: 'qemu',
    description: 'Cortex-M4F on QEMU mps2-an386',
    cflags: ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'],
    qemuMachine: 'mps2-an386',
    flash: { origin: 0x0000_0000, bytes: DEFAULT_BUDGET.flashBytes },
    ram: { origin: 0x2000_0000, bytes: DEFAULT_BUDGET.sramBytes },
    stackBytes: DEFAULT_STACK_BYTES,
    heapBytes: DEFAULT_HEAP_BYTES,
    physical: { flashBytes: 4096 * KIB, ramBytes: 4096 * KIB },
    timerSource: 'timer_cmsdk.c',
  },
  'cortex-m7': {
    name: 'cortex-m7',
    kind: 'qemu',
    description: 'Cortex-M7 on QEMU mps2-an500',
    cflags: ['-mcpu=cortex-m7', '-mthumb', '-mfpu=fpv5-d16', '-mfloat-abi=hard'],
    qemuMachine: 'mps2-an500',
    flash: { origin: 0x0000_0000, bytes: DEFAULT_BUDGET.flashBytes },
    ram: { origin: 0x2000_0000, bytes: DEFAULT_BUDGET.sramBytes },
    stackBytes: DEFAULT_STACK_BYTES,
    heapBytes: DEFAULT_HEAP_BYTES,
    physical: { flashBytes: 4096 * KIB, ramBytes: 4096 * KIB },
    timerSource: 'timer_cmsdk.c',
  },
  'cortex-m55': {
    name: 'cortex-m55',
    kind: 'qemu',
    description: 'Cortex-M55 (MVE) on QEMU mps3-an547',
    cflags: ['-mcpu=cortex-m55', '-mthumb', '-mfloat-abi=hard'],
    qemuMachine: 'mps3-an547',
    // The vector table must sit at 0x0, which on the AN547 is the 512 KB ITCM: that is all
    // the "flash" this machine has, so the flash budget cannot be the default 1 MB here.
    flash: { origin: 0x0000_0000, bytes: 512 * KIB },
    ram: { origin: 0x2000_0000, bytes: DEFAULT_BUDGET.sramBytes },
    stackBytes: DEFAULT_STACK_BYTES,
    heapBytes: DEFAULT_HEAP_BYTES,
    physical: { flashBytes: 512 * KIB, ramBytes: 512 * KIB },
    timerSource: 'timer_sse300.c',
  },
  host: {
    name: 'host',
    kind: 'host',
    description: "the build machine's cc (budget not enforced)",
    cflags: [],
    flash: { origin: 0, bytes: DEFAULT_BUDGET.flashBytes },
    ram: { origin: 0, bytes: DEFAULT_BUDGET.sramBytes },
    stackBytes: DEFAULT_STACK_BYTES,
    heapBytes: DEFAULT_HEAP_BYTES,
    physical: { flashBytes: Number.MAX_SAFE_INTEGER, ramBytes: Number.MAX_SAFE_INTEGER },
  },
  // The same budget as the boards by default: the module is the device's program, run on a laptop. Its kernels
  // need no C stack or heap; the module's own linear memory is in the compile report.
  wasm: {
    name: 'wasm',
    kind: 'wasm',
    description: 'WebAssembly module for Node.js and browsers (SIMD and scalar builds), run in Node',
    cflags: [],
    flash: { origin: 0, bytes: DEFAULT_BUDGET.flashBytes },
    ram: { origin: 0, bytes: DEFAULT_BUDGET.sramBytes },
    stackBytes: 0,
    heapBytes: 0,
    physical: { flashBytes: Number.MAX_SAFE_INTEGER, ramBytes: Number.MAX_SAFE_INTEGER },
  },
};

export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name);
}

export function getBoard(name: string): Board {
  if (!isTargetName(name)) {
    throw new Error(`unknown target '${name}': valid targets are ${TARGET_NAMES.join(', ')}`);
  }
  return BOARDS[name];
}

export interface BudgetOverride {
  readonly sramBytes?: number;
  readonly flashBytes?: number;
  readonly stackBytes?: number;
}

/** The same board with another memory budget; refuses budgets the simulated machine cannot back. */
export function withBudget(board: Board, budget: BudgetOverride): Board {
  const sramBytes = budget.sramBytes ?? board.ram.bytes;
  const flashBytes = budget.flashBytes ?? board.flash.bytes;
  const stackBytes = budget.stackBytes ?? board.stackBytes;
  checkBytes(board, 'sramBytes', sramBytes, board.physical.ramBytes);
  checkBytes(board, 'flashBytes', flashBytes, board.physical.flashBytes);
  if (budget.stackBytes !== undefined || board.stackBytes > 0) checkBytes(board, 'stackBytes', stackBytes, sramBytes - board.heapBytes);
  return {
    ...board,
    flash: { ...board.flash, bytes: flashBytes },
    ram: { ...board.ram, bytes: sramBytes },
    stackBytes,
  };
}

function checkBytes(board: Board, what: string, bytes: number, max: number): void {
  // Multiples of 8 keep the stack at the top of RAM 8-byte aligned, as the AAPCS requires.
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes % 8 !== 0) {
    throw new Error(`${board.name}: ${what} must be a positive multiple of 8, got ${bytes}`);
  }
  if (bytes > max) {
    throw new Error(`${board.name}: ${what} = ${bytes} exceeds the ${max} bytes available (${board.description})`);
  }
}
