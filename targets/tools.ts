/**
 * @fileoverview Running the external tools (compilers, size, QEMU), with one clear message when
 * a tool is not installed: which tool, and which Debian package provides it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Debian packages behind each tool we call (see notes/qemu-cortex-m.md). */
const APT_PACKAGES: Readonly<Record<string, string>> = {
  'arm-none-eabi-gcc': 'gcc-arm-none-eabi libnewlib-arm-none-eabi',
  'arm-none-eabi-objdump': 'binutils-arm-none-eabi',
  'qemu-system-arm': 'qemu-system-arm',
  cc: 'gcc',
  chromium: 'chromium',
};

export class ToolMissingError extends Error {
  constructor(readonly tool: string) {
    const apt = APT_PACKAGES[tool];
    super(
      tool.includes('/')
        ? `${tool} does not exist`
        : `${tool} is not installed or not on PATH` +
            (apt ? ` (apt-get install -y --no-install-recommends ${apt})` : ''),
    );
    this.name = 'ToolMissingError';
  }
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit status; a process killed by a signal reports 128 + the signal number, as a shell does. */
  readonly exitCode: number;
  /** Set when the process was killed because it ran past `timeoutMs`. */
  readonly timedOut: boolean;
}

export interface ToolOptions {
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/**
 * Runs a tool to completion. A non-zero exit is a result, not an exception; a missing tool throws. Its stdout and
 * stderr go to files, read once it exits: QEMU writes to its stdout without blocking, so through a pipe a guest's
 * output past the pipe's 64 KB is lost whenever Node.js reads more slowly than the guest prints.
 */
export async function runTool(tool: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-tool-'));
  const files = [join(dir, 'stdout'), join(dir, 'stderr')] as const;
  const fds = files.map((file) => openSync(file, 'w'));
  try {
    const child = spawn(tool, args, { cwd: options.cwd, stdio: ['ignore', fds[0]!, fds[1]!] });
    const timeoutMs = options.timeoutMs ?? 0;
    let timedOut = false;
    // SIGKILL: a hung guest must not get a chance to linger (QEMU may ignore SIGTERM while stuck).
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutMs) : undefined;
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | NodeJS.ErrnoException>((resolve) => {
      child.once('error', resolve);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    clearTimeout(timer);
    if (exit instanceof Error) {
      if (exit.code === 'ENOENT') throw new ToolMissingError(tool);
      throw exit; // could not start it at all (EACCES, ...)
    }
    const [stdout, stderr] = await Promise.all(files.map((file) => readFile(file, 'utf8')));
    return { stdout: stdout!, stderr: stderr!, exitCode: exit.code ?? 128 + signalNumber(exit.signal), timedOut };
  } finally {
    fds.forEach((fd) => closeSync(fd));
    await rm(dir, { recursive: true, force: true });
  }
}

function signalNumber(signal: NodeJS.Signals | null | undefined): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
