#!/usr/bin/env node
/**
 * Compares two V8 heap snapshots (e.g. the soak's early and late ones, BENCH_SOAK_SNAPSHOTS):
 * object counts and self sizes by node type and constructor name, the biggest growth first.
 *
 *   node bench/heap-diff.mjs early.heapsnapshot late.heapsnapshot [rows]
 */
import { readFileSync } from 'node:fs';

function summarize(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const nodes = snap.nodes;
  const strings = snap.strings;
  const out = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name =
      type === 'string' || type === 'concatenated string' || type === 'sliced string'
        ? '(string)'
        : strings[nodes[i + iName]];
    if (type === 'code' || type === 'hidden') name = `(${type})`;
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type}\t${name}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

const [a, b, rows = '40'] = process.argv.slice(2);
const early = summarize(a);
const late = summarize(b);
const diff = [];
for (const [key, l] of late) {
  const e = early.get(key) ?? { count: 0, size: 0 };
  diff.push({ key, count: l.count - e.count, size: l.size - e.size, lateCount: l.count });
}
diff.sort((x, y) => y.size - x.size);
let total = 0;
for (const d of diff) total += d.size;
console.log(`self size growth ${(total / 1e6).toFixed(2)} MB`);
console.log('  +count   +bytes  late count  type / constructor');
for (const d of diff.slice(0, Number(rows)))
  console.log(
    `${String(d.count).padStart(8)} ${String(d.size).padStart(9)} ${String(d.lateCount).padStart(10)}  ${d.key}`,
  );
