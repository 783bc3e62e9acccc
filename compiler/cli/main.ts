/**
 * @fileoverview The `tinyforge` command line: argument parsing and printing only.
 * Exit codes: 0 ok, 1 bad input / does not fit / run failed, 2 usage error.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { compileCommand, DEFAULT_LEARNING_RATE, inspectCommand, runCommand } from './commands.ts';
import { UserError } from '../errors.ts';
import { TARGET_NAMES } from '../../targets/boards.ts';
import { ROUNDINGS } from '../ops/common/fixed_point.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function program(): Command {
  const cli = new Command('tinyforge')
    .description('Compile int8 TFLite and ONNX models to C for microcontrollers or to WebAssembly, and run them on an emulated Cortex-M, natively or in Node.js.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const target = () => new Option('-t, --target <target>', 'target board/core').choices(TARGET_NAMES as string[]);
  const rounding = () =>
    new Option(
      '--rounding <mode>',
      'requantization rounding: double (TFLM, CMSIS-NN; default for .tflite), single (TFLite: conv / fully connected round once), ' +
        'float32 (conv, depthwise, fully connected requantize as float32 arithmetic does, exactly: ONNX QDQ semantics; default for .onnx)',
    ).choices([...ROUNDINGS]);
  const inputLayout = () =>
    new Option('--input-layout <layout>', 'ONNX models: layout of 4-D inputs the program takes (default: the file\'s, NCHW)').choices(['nchw', 'nhwc']);
  const train = () => new Option('--train', 'compile a training step as well (train_step next to invoke); needs --update');
  const update = () =>
    new Option(
      '--update <spec>',
      'with --train, what trains: bias-only (every bias and the classifier), last:N (the last N layers\' weights and biases), full, ' +
        'or FILE.json#model/scheme (a sparse-update scheme)',
    );
  const classes = () => new Option('--classes <n>', 'with --train: replace the classifier by a new one with N classes').argParser(positiveInt);

  cli
    .command('compile')
    .description('compile MODEL into a self-contained C library (Cortex-M, host) or WebAssembly module with a typed wrapper (wasm) in the output folder')
    .argument('<model>', '.tflite or .onnx file')
    .addOption(target().default('cortex-m4'))
    .requiredOption('-o, --out <dir>', 'output folder (replaced as a whole; nothing is written on error)')
    .addOption(rounding())
    .addOption(inputLayout())
    .option('--sram <bytes>', 'SRAM budget in bytes (default: the board\'s, 262144)', positiveInt)
    .option('--flash <bytes>', 'flash budget in bytes (default: the board\'s, 1048576)', positiveInt)
    .option('--wat', 'wasm target: also write model.wat, the text form of model.wasm')
    .addOption(train())
    .addOption(update())
    .addOption(classes())
    .option('--json', 'print the report as JSON')
    .action(async (model: string, opts) => compileCommand(model, opts));

  cli
    .command('run')
    .description('build a compiled folder for its target and run it (QEMU for Cortex-M, natively for host, in Node.js for wasm, with timing)')
    .argument('<dir>', 'folder written by `tinyforge compile`')
    .option(
      '-i, --input <file>',
      'raw bytes of the input tensor(s), in the model\'s layout; repeat to run several inputs (with --train-steps: one or more images back to back)',
      collect,
      [],
    )
    .option('-o, --output <file>', 'write the raw output bytes (all runs, in order) to this file')
    .option('--train-steps <n>', 'models compiled with --train: run N training steps instead of inference, cycling over the input images', positiveInt)
    .option('--label <k>', 'with --train-steps: the class of the input image(s), one (for all) or a comma list with one per image')
    .option('--lr <x>', `with --train-steps: learning rate (default ${DEFAULT_LEARNING_RATE}), rounded to float32`, positiveNumber)
    .option('--dump-params <file>', 'with --train-steps: write the trainable parameters after the last step, raw bytes in the order model.h documents')
    .addOption(new Option('-t, --target <target>', 'run on another target than the one compiled for').choices(TARGET_NAMES as string[]))
    .option('--timeout <ms>', 'QEMU and host: give up on a run after this many milliseconds', positiveInt, 120000)
    .option('--no-simd', 'wasm: run model.scalar.wasm instead of the SIMD build')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, opts) => runCommand(dir, opts));

  cli
    .command('inspect')
    .description('show the per-layer table and memory plan of MODEL without generating code')
    .argument('<model>', '.tflite or .onnx file')
    .addOption(target().default('cortex-m4'))
    .addOption(rounding())
    .addOption(inputLayout())
    .addOption(train())
    .addOption(update())
    .addOption(classes())
    .option('--json', 'print the report as JSON')
    .action(async (model: string, opts) => inspectCommand(model, opts));
  return cli;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UserError) {
      process.stderr.write(`tinyforge: error: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`tinyforge: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
