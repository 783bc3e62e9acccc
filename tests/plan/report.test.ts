import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planArena } from '../../compiler/plan/planner.ts';
import { formatArenaReport } from '../../compiler/plan/report.ts';

const names: Record<number, { name: string; producer: string }> = {
  0: { name: 'input', producer: '(graph input)' },
  1: { name: 'conv1_out', producer: 'Conv2D conv1' },
  2: { name: 'pool_out', producer: 'MaxPool2D pool1' },
};

test('report lists arena, bound, ratio and the tensors live at the peak', () => {
  const plan = planArena([
    { id: 0, bytes: 1024, firstUse: 0, lastUse: 0 },
    { id: 1, bytes: 40_000, firstUse: 0, lastUse: 1 },
    { id: 2, bytes: 10_000, firstUse: 1, lastUse: 1 },
  ]);
  const text = formatArenaReport(plan, (id) => names[id]!);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^arena: +50,000 bytes \(48\.8 KiB\)$/);
  assert.match(lines[1]!, /^lower bound: 50,000 bytes .*peak at step 1 with 2 live buffer\(s\)$/);
  assert.match(lines[2]!, /^ratio: +1\.000x \(0 bytes above the bound\)$/);
  assert.is(lines[3], 'live at step 1:');
  // largest first, with offsets and producers
  assert.match(lines[5]!, /40,000 +conv1_out +Conv2D conv1$/);
  assert.match(lines[6]!, /10,000 +pool_out +MaxPool2D pool1$/);
  assert.not.match(text, /input/);
});

test('report of an empty plan', () => {
  const text = formatArenaReport(planArena([]), () => ({ name: '', producer: '' }));
  assert.match(text, /ratio: +n\/a/);
});

test.run();
