// Human-readable memory report for an ArenaPlan. Pure: no IR access, the
// caller supplies names, so the same formatter serves the CLI and tests.

import type { ArenaPlan } from './planner.ts';

export interface BufferDescription { name: string; producer: string }

/** 1234567 -> "1,234,567" (fixed format: toLocaleString depends on the host locale) */
const num = (x: number): string => String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const kib = (x: number): string => `${(x / 1024).toFixed(1)} KiB`;

export function formatArenaReport(plan: ArenaPlan, describe: (id: number) => BufferDescription): string {
  const { arenaBytes, peak } = plan;
  const lines = [
    `arena:       ${num(arenaBytes)} bytes (${kib(arenaBytes)})`,
    `lower bound: ${num(peak.bytes)} bytes (${kib(peak.bytes)}), peak at step ${peak.step} with ${peak.live.length} live buffer(s)`,
    peak.bytes > 0
      ? `ratio:       ${(arenaBytes / peak.bytes).toFixed(3)}x (${num(arenaBytes - peak.bytes)} bytes above the bound)`
      : `ratio:       n/a (empty arena)`,
  ];
  if (peak.live.length === 0) return lines.join('\n');
  // largest first: those are the tensors worth shrinking or rescheduling
  const rows = peak.live
    .map((id) => ({ id, bytes: plan.sizes.get(id) ?? 0, offset: plan.offsets.get(id), ...describe(id) }))
    .sort((a, b) => b.bytes - a.bytes || a.id - b.id);
  const cells = rows.map((r) => [r.offset === undefined ? '?' : num(r.offset), num(r.bytes), r.name, r.producer]);
  const head = ['offset', 'bytes', 'tensor', 'producer'];
  const width = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  // numbers right-aligned, text left-aligned
  const fmt = (row: string[]) =>
    '  ' + row.map((cell, c) => (c < 2 ? cell.padStart(width[c]!) : cell.padEnd(width[c]!))).join('  ').trimEnd();
  lines.push(`live at step ${peak.step}:`, fmt(head), ...cells.map(fmt));
  return lines.join('\n');
}
