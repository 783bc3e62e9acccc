/**
 * @fileoverview Running the external tools (compilers, size, QEMU), with one clear message when
 * a tool is not installed: which tool, and which Debian package provides it.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { constants } from 'node:os';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

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

/** Runs a tool to completion. A non-zero exit is a result, not an exception; a missing tool throws. */
export async function runTool(tool: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await execFileAsync(tool, args, {
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 0,
      // SIGKILL: a hung guest must not get a chance to linger (QEMU may ignore SIGTERM while stuck).
      killSignal: 'SIGKILL',
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    return { stdout, stderr, exitCode: 0, timedOut: false };
  } catch (caught) {
    const error = caught as ExecFileException & { stdout?: string; stderr?: string };
    if (error.code === 'ENOENT') {
      throw new ToolMissingError(tool);
    }
    if (typeof error.code !== 'number' && error.signal == null) {
      throw error; // could not start it at all (EACCES, ...)
    }
    return {
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
      exitCode: typeof error.code === 'number' ? error.code : 128 + signalNumber(error.signal),
      timedOut: error.killed === true && options.timeoutMs !== undefined && options.timeoutMs > 0,
    };
  }
}

function signalNumber(signal: NodeJS.Signals | null | undefined): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
