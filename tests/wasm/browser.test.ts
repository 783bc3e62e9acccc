/**
 * The wasm wrapper in a real browser: headless Chromium loads the generated model.js as an ES module over HTTP,
 * fetches model.wasm and model.scalar.wasm beside it, and both give the reference interpreter's bytes; a wrong
 * input throws the wrapper's TypeError there too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { tinyKws } from '../../examples/tiny_kws.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { getBoard } from '../../targets/boards.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/**
 * The page runs the model on the input given in its URL and posts the outputs (or the error) back to /result: the test
 * waits for that in real time (a virtual-time budget can run out while the browser compiles wasm off the main thread).
 */
const PAGE = `<!doctype html><script type="module">
import { load } from './model.js';
const lines = [];
try {
  const input = Int8Array.from(new URLSearchParams(location.search).get('input').split(',').map(Number));
  for (const simd of [true, false]) lines.push((simd ? 'simd ' : 'scalar ') + (await load({ simd })).invoke(input).join(','));
  try {
    (await load()).invoke(new Int8Array(3));
  } catch (e) {
    lines.push(e.constructor.name + ': ' + e.message);
  }
} catch (e) {
  lines.push('ERROR ' + e);
}
await fetch('/result', { method: 'POST', body: lines.join('\\n') });
</script>`;

test('headless Chromium runs model.js with both builds, equal to the reference', async () => {
  const graph = tinyKws();
  const input = new Random(3).int8Array(490);
  const expected = Array.from(new Int8Array(runReference(prepareGraph(graph, { rounding: 'double' }), [new Uint8Array(input.buffer)])[0]!.buffer)).join(',');
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-browser-'));
  writeOutputDir(join(dir, 'model'), (await compileGraph(graph, { board: getBoard('wasm'), rounding: 'double' })).files);
  let report: (text: string) => void = () => {};
  const result = new Promise<string>((resolve) => (report = resolve));
  const server = createServer((req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/result' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        res.writeHead(204).end();
        report(Buffer.concat(chunks).toString('utf8'));
      });
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': CONTENT_TYPES['.html']! }).end(PAGE);
      return;
    }
    try {
      const body = readFileSync(join(dir, 'model', path));
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  let browser: ChildProcess | undefined;
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/?input=${Array.from(input).join(',')}`;
    const profile = join(dir, 'profile');
    // Its own process group, so that the browser's helper processes end with it.
    browser = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, url], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    browser.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const failed = new Promise<never>((_, reject) => {
      browser!.on('error', (e) => reject(new Error(`cannot start chromium (scripts/setup installs it): ${e.message}`)));
      browser!.on('exit', (code) => reject(new Error(`chromium exited (${code}) before the page reported:\n${stderr}`)));
      setTimeout(() => reject(new Error(`the page did not report within 60 s:\n${stderr}`)), 60_000).unref();
    });
    const lines = (await Promise.race([result, failed])).split('\n');
    assert.equal(lines.slice(0, 2), [`simd ${expected}`, `scalar ${expected}`]);
    assert.match(lines[2] ?? '', /^TypeError: model 'tiny_kws' input 0 must be a Int8Array \(mfcc: int8 \[1x49x10x1\], 490 elements\); got Int8Array of 3 elements$/);
  } finally {
    if (browser?.pid !== undefined && browser.exitCode === null) {
      browser.removeAllListeners('exit');
      const exited = new Promise((resolve) => browser!.once('exit', resolve));
      process.kill(-browser.pid, 'SIGKILL');
      await exited;
    }
    server.close();
    // A helper process may still be letting go of the profile for a moment after the kill.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
});

test.run();
