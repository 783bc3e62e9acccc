/**
 * @fileoverview Builds a generated model directory (model.h, model.c, runtime kernels) plus the
 * test harness into an executable for a board: arm-none-eabi-gcc + generated linker script for
 * the Cortex-M boards, the build machine's cc for host.
 *
 * Memory figures (Cortex-M only, measured from the linked ELF's section headers):
 *   flashBytes = every loaded section stored in FLASH: vectors, .text, .rodata (weights, LUTs),
 *                unwind tables, init arrays, and .data's initial values (Berkeley text + data).
 *   sramBytes  = .data + .bss (the arena, harness buffers, newlib state) + the fixed heap and
 *                stack reservations. The unused gap between them is not counted.
 * Both include the harness and newlib (printf is ~10-20 KB of flash); they are the whole image.
 */
import { mkdir, readdir, writeFile, access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Board } from './boards.ts';
import { linkerScript } from './cortex-m/linker.ts';
import { runTool } from './tools.ts';

const TARGETS_DIR = fileURLToPath(new URL('.', import.meta.url));
const HARNESS_DIR = join(TARGETS_DIR, 'harness');
const CORTEX_M_DIR = join(TARGETS_DIR, 'cortex-m');
const HOST_DIR = join(TARGETS_DIR, 'host');

const WARNINGS = ['-Wall', '-Wextra', '-Werror'];

/**
 * Every float operation rounds on its own, as the TypeScript reference's Math.fround does: a fused
 * multiply-add (which GCC forms in GNU C modes, and on cores with an FMA unit) would change the bits.
 */
const FLOAT_SEMANTICS = ['-ffp-contract=off'];

export interface BuildOptions {
  /** Directory holding model.h and the generated sources: every `*.c` in it is compiled. */
  readonly sourceDir: string;
  /** More C files to compile and link. */
  readonly extraSources?: readonly string[];
  /** More header directories. workDir and sourceDir are always searched (run_inputs.h goes in workDir). */
  readonly includeDirs?: readonly string[];
  /** Where objects, the linker script, map and executable are written; created if missing. */
  readonly workDir: string;
  /** Host only: build with -fsanitize=address,undefined (any report aborts the program). */
  readonly sanitize?: boolean;
  readonly optimize?: '-O2' | '-Os';
  /** Link targets/harness/main.c (default true); false when extraSources bring their own main. */
  readonly harness?: boolean;
}

export interface MemoryBreakdown {
  /** FLASH bytes other than .data's initial values. */
  readonly text: number;
  readonly data: number;
  readonly bss: number;
  readonly heap: number;
  readonly stack: number;
}

export interface BuildResult {
  readonly executable: string;
  /** null on host: the budget only exists on the boards. */
  readonly flashBytes: number | null;
  readonly sramBytes: number | null;
  readonly memory: MemoryBreakdown | null;
}

export interface RegionOverflow {
  readonly region: string;
  readonly bytes: number;
}

/** A compile or link failure; `stderr` is the compiler's own report. */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly overflows: readonly RegionOverflow[] = [],
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

export async function buildProgram(board: Board, options: BuildOptions): Promise<BuildResult> {
  if (options.sanitize && board.kind !== 'host') {
    throw new Error(`${board.name}: sanitizers are only available for the host target`);
  }
  const workDir = resolve(options.workDir);
  await mkdir(join(workDir, 'obj'), { recursive: true });
  const sourceDir = resolve(options.sourceDir);
  const harness = options.harness ?? true;
  if (harness) {
    await access(join(sourceDir, 'model.h')).catch(() => {
      throw new Error(`${sourceDir} has no model.h: is it a generated model directory?`);
    });
  }

  const sources = [
    ...(await cSourcesIn(sourceDir)),
    ...(options.extraSources ?? []).map((path) => resolve(path)),
    ...(harness ? [join(HARNESS_DIR, 'main.c')] : []),
    ...boardSources(board),
  ];
  const includeDirs = [workDir, sourceDir, ...(options.includeDirs ?? []).map((dir) => resolve(dir)), HARNESS_DIR];
  const compiler = board.kind === 'host' ? 'cc' : 'arm-none-eabi-gcc';
  const compileFlags = [
    '-std=c99',
    options.optimize ?? '-O2',
    ...WARNINGS,
    ...FLOAT_SEMANTICS,
    ...board.cflags,
    ...(board.kind === 'host' ? hostFlags(options.sanitize ?? false) : ['-ffunction-sections', '-fdata-sections']),
    ...includeDirs.map((dir) => `-I${dir}`),
  ];

  const objects = await compileAll(compiler, compileFlags, sources, join(workDir, 'obj'));

  if (board.kind === 'host') {
    const executable = join(workDir, 'program');
    const hostLink = [...(options.sanitize ? hostFlags(true) : []), ...objects, '-o', executable, '-lm'];
    await link(board, compiler, hostLink);
    return { executable, flashBytes: null, sramBytes: null, memory: null };
  }

  const script = join(workDir, 'link.ld');
  await writeFile(script, linkerScript(board));
  const executable = join(workDir, 'program.elf');
  await link(board, compiler, [
    ...board.cflags,
    '--specs=nano.specs',
    '--specs=rdimon.specs',
    '-nostartfiles',
    `-T${script}`,
    '-Wl,--gc-sections',
    `-Wl,-Map=${join(workDir, 'program.map')}`,
    ...objects,
    '-o',
    executable,
    '-lm',
  ]);
  const memory = await measureImage(board, executable);
  return {
    executable,
    flashBytes: memory.text + memory.data,
    sramBytes: memory.data + memory.bss + memory.heap + memory.stack,
    memory,
  };
}

async function cSourcesIn(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((name) => name.endsWith('.c'))
    .sort()
    .map((name) => join(dir, name));
}

function boardSources(board: Board): string[] {
  if (board.kind === 'host') {
    return [join(HOST_DIR, 'board.c')];
  }
  if (!board.timerSource) {
    throw new Error(`${board.name}: board descriptor names no timerSource`);
  }
  return ['startup.c', 'stack_probe.c', board.timerSource].map((name) => join(CORTEX_M_DIR, name));
}

function hostFlags(sanitize: boolean): string[] {
  return sanitize ? ['-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'] : [];
}

/** One compiler process per source, a few at a time: a real model has dozens of kernel files. */
async function compileAll(compiler: string, flags: readonly string[], sources: readonly string[], objDir: string): Promise<string[]> {
  const objects = sources.map((source, index) => join(objDir, `${index}_${basename(source, '.c')}.o`));
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      const index = next++;
      const result = await runTool(compiler, [...flags, '-c', sources[index]!, '-o', objects[index]!]);
      if (result.exitCode !== 0) {
        failures.push(result.stderr.trim() || `${compiler} exited with status ${result.exitCode}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), sources.length) }, worker));
  if (failures.length > 0) {
    const stderr = failures.join('\n');
    throw new BuildError(`compilation failed:\n${stderr}`, stderr);
  }
  return objects;
}

async function link(board: Board, compiler: string, args: readonly string[]): Promise<void> {
  const result = await runTool(compiler, args);
  if (result.exitCode === 0) {
    return;
  }
  const overflows = parseRegionOverflows(result.stderr);
  if (overflows.length > 0) {
    const what = overflows.map((o) => `${o.region} overflowed by ${o.bytes} bytes`).join(', ');
    throw new BuildError(
      `${board.name}: the image does not fit the board's budget: ${what} ` +
        `(budget: ${board.flash.bytes} bytes flash; ${board.ram.bytes} bytes SRAM, of which ${board.stackBytes} stack ` +
        `and ${board.heapBytes} heap)\n` +
        result.stderr,
      result.stderr,
      overflows,
    );
  }
  throw new BuildError(`${board.name}: link failed:\n${result.stderr}`, result.stderr);
}

/** ld says e.g. "region `RAM' overflowed by 45056 bytes". */
export function parseRegionOverflows(stderr: string): RegionOverflow[] {
  const overflows: RegionOverflow[] = [];
  for (const match of stderr.matchAll(/region [`']?(\w+)'? overflowed by (\d+) bytes/g)) {
    overflows.push({ region: match[1]!, bytes: Number(match[2]) });
  }
  return overflows;
}

interface SectionHeader {
  readonly name: string;
  readonly size: number;
  readonly vma: number;
  readonly lma: number;
  readonly flags: readonly string[];
}

/** From the section headers (objdump -h), so orphan sections the script did not name are counted too. */
async function measureImage(board: Board, executable: string): Promise<MemoryBreakdown> {
  const result = await runTool('arm-none-eabi-objdump', ['-h', executable]);
  if (result.exitCode !== 0) {
    throw new Error(`arm-none-eabi-objdump -h ${executable} failed:\n${result.stderr}`);
  }
  const inRegion = (address: number, region: Board['flash']): boolean =>
    address >= region.origin && address < region.origin + region.bytes;
  let text = 0;
  let data = 0;
  let bss = 0;
  let heap = 0;
  let stack = 0;
  for (const section of parseSectionHeaders(result.stdout)) {
    if (!section.flags.includes('ALLOC') || section.size === 0) continue;
    const loaded = section.flags.includes('LOAD');
    if (section.name === '.stack') {
      stack += section.size;
    } else if (section.name === '.heap') {
      heap += section.size;
    } else if (section.name === '.unused') {
      // the gap the budget leaves: neither flash nor used SRAM
    } else if (inRegion(section.vma, board.ram)) {
      if (loaded) data += section.size;
      else bss += section.size;
    } else if (loaded && inRegion(section.lma, board.flash)) {
      text += section.size;
    }
  }
  return { text, data, bss, heap, stack };
}

export function parseSectionHeaders(objdump: string): SectionHeader[] {
  const lines = objdump.split('\n');
  const sections: SectionHeader[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+2\*\*\d+/.exec(lines[i]!);
    if (!match) continue;
    sections.push({
      name: match[1]!,
      size: parseInt(match[2]!, 16),
      vma: parseInt(match[3]!, 16),
      lma: parseInt(match[4]!, 16),
      flags: (lines[i + 1] ?? '').split(',').map((flag) => flag.trim()),
    });
  }
  return sections;
}
