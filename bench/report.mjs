// Turns measured rows into the two outputs the suite promises, from one description so they
// cannot disagree: aligned text tables on stdout, and docs/benchmarks.md.

import os from 'node:os';

export function formatRate(rate) {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k`;
  return rate.toFixed(1);
}

/** A whole number with thousands separators, as the prose of the report writes counts: 100,000. */
export function formatCount(n) {
  return n.toLocaleString('en-US');
}

export function formatNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(ns < 100 ? 1 : 0)} ns`;
}

export function formatRatio(r) {
  if (r < 0.1) return `${r.toPrecision(2)}×`;
  return `${r >= 100 ? r.toFixed(0) : r.toFixed(2)}×`;
}

export function formatBytes(bytes) {
  const sign = bytes < 0 ? '-' : '';
  const b = Math.abs(bytes);
  if (b >= 1024 * 1024) return `${sign}${(b / 1024 / 1024).toFixed(1)} MiB`;
  if (b >= 1024) return `${sign}${(b / 1024).toFixed(1)} KiB`;
  return `${sign}${b.toFixed(0)} B`;
}

/**
 * A table row from the rates of several runs: the best one, and spread = best ÷ median (the
 * upper median for an even count), as the harness reports its passes.
 */
export function rateRow(name, rates) {
  const best = Math.max(...rates);
  const sorted = [...rates].sort((a, b) => a - b);
  return { name, best, nsPerOp: 1e9 / best, spread: best / sorted[Math.floor(sorted.length / 2)] };
}

/** Looks a row up by name; throws so a renamed contender cannot silently drop a target. */
export function row(rows, name) {
  const found = rows.find((r) => r.name === name);
  if (!found) throw new Error(`no row named "${name}"`);
  return found;
}

/**
 * A target line. `value` is the measured figure (a ratio unless `unit` says otherwise),
 * `cmp` '>=' or '<='. A target is never adjusted here: the caller states it as the issue does.
 */
export function target(text, value, cmp, required, diagnosis, unit = '×') {
  const pass = cmp === '>=' ? value >= required : value <= required;
  const shown = unit === '×' ? formatRatio(value) : `${formatRate(value)}${unit}`;
  const wanted = unit === '×' ? formatRatio(required) : `${formatRate(required)}${unit}`;
  return { text, value, cmp, required, pass, shown, wanted, diagnosis: pass ? undefined : diagnosis };
}

function tableCells(table) {
  const base = table.baseline ? row(table.rows, table.baseline) : undefined;
  const share = table.shareOf ? row(table.rows, table.shareOf) : undefined;
  const header = [
    'contender',
    table.unit ?? 'ops/s',
    'time/op',
    base ? (table.ratioLabel ?? `${table.baseline} ÷ this`) : undefined,
    share ? `% of ${table.shareOf}` : undefined,
    'spread',
  ].filter((h) => h !== undefined);
  const body = table.rows.map((r) =>
    [
      r.name,
      formatRate(r.best),
      formatNs(r.nsPerOp),
      base ? formatRatio(table.speedVsBaseline ? r.best / base.best : base.best / r.best) : undefined,
      share ? `${((100 * r.nsPerOp) / share.nsPerOp).toFixed(0)} %` : undefined,
      `${r.spread.toFixed(2)}`,
    ].filter((c) => c !== undefined),
  );
  return { header, body };
}

function markdownTable({ header, body }) {
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...body.map(line)].join('\n');
}

function textTable({ header, body }) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function targetLine(t) {
  return `${t.pass ? 'PASS' : 'MISS'}  ${t.text}: measured ${t.shown} (target ${t.cmp} ${t.wanted})`;
}

/** Prints one finished section to stdout as soon as it is measured. */
export function printSection(section) {
  const out = [`\n=== ${section.title} ===`];
  if (section.summary) out.push(section.summary);
  for (const table of section.tables) {
    if (table.caption) out.push(`\n${table.caption}`);
    out.push(textTable(tableCells(table)));
  }
  for (const text of section.extra ?? []) out.push(text);
  for (const t of section.targets ?? []) {
    out.push(targetLine(t));
    if (t.diagnosis) out.push(`      where the time goes: ${t.diagnosis}`);
  }
  console.log(out.join('\n'));
}

const howToRead = (o) => `## How to read this

Every contender runs in chunks of about ${o.chunkMs} ms (thousands of iterations, never a single
timed call), and the contenders of one table take turns chunk by chunk: a pass gives each of them
${o.rounds} chunks, and there are at least ${o.passes} passes (up to ${o.maxPasses}, while some
contender's best pass still improves). Each contender's rate is its **best pass**; **spread** is
best ÷ median pass (1.00 = steady; well above that, the machine was in one of its slow phases for
part of the run, see PERF-NOTES.md). Each contender runs its own compiled copy of its loop, so no
library pays for a call site another one made megamorphic, and each scenario runs in a process of
its own, so busline's code is not trained by the bus shapes of the scenarios before it. Before the warm-up one full GC moves
what the setup built (buses, tries, emitters) to the old generation, as in a long-running process.
Promises returned by busline's \`publish\` are awaited in batches of 1,000 (\`Promise.all\`) inside
the timed loop, except in rows that say "awaited one by one" (each publish awaited before the next). **Ratios between the contenders of one table are what matters:** absolute rates on
this VM move 2–4× from one day to the next. "busline ÷ this" above 1 means busline is faster.
Time/op is 1 ÷ the best rate.`;

/** docs/benchmarks.md from the collected sections. */
export function renderMarkdown(sections, meta) {
  const cpus = os.cpus();
  const out = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.mjs). Do not edit by hand: rerun it. -->',
    '',
    `- Date: ${meta.date}`,
    `- Node: ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    `- busline: ${meta.version}, dist/ built from ${meta.commit}`,
    `- Peers: ${meta.peers.join(', ')}`,
    `- Machine load: ${meta.load} (other processes compete for the 2 cores; see spread)`,
    `- Suite run time: ${meta.seconds.toFixed(0)} s`,
    '',
    howToRead(meta.harness),
    '',
    '## Targets',
    '',
    '| scenario | target | measured | result |',
    '| --- | --- | ---: | --- |',
  ];
  for (const s of sections) {
    for (const t of s.targets ?? []) {
      out.push(
        `| ${s.title} | ${t.text} (${t.cmp} ${t.wanted}) | ${t.shown} | ${t.pass ? 'PASS' : '**MISS**'} |`,
      );
    }
  }
  for (const s of sections) out.push(...targetRows(s));
  for (const s of sections) out.push('', ...sectionLines(s));
  return `${out.join('\n')}\n`;
}

/** A section's rows of the Targets table. */
function targetRows(s) {
  return (s.targets ?? []).map(
    (t) => `| ${s.title} | ${t.text} (${t.cmp} ${t.wanted}) | ${t.shown} | ${t.pass ? 'PASS' : '**MISS**'} |`,
  );
}

/** A section as Markdown, from its heading to its last target. */
function sectionLines(s) {
  const out = [`## ${s.title}`, ''];
  if (s.description) out.push(s.description, '');
  for (const table of s.tables) {
    if (table.caption) out.push(`${table.caption}`, '');
    out.push(markdownTable(tableCells(table)), '');
  }
  for (const text of s.extra ?? []) out.push(text, '');
  for (const t of s.targets ?? []) {
    out.push(
      `- **${t.pass ? 'PASS' : 'MISS'}** ${t.text}: measured ${t.shown} (target ${t.cmp} ${t.wanted}).`,
    );
    if (t.diagnosis) out.push(`  Where the time goes: ${t.diagnosis}`);
  }
  return out;
}

/**
 * The doc `markdown` with `sections` put in place of the ones of the same title (their text and
 * their rows of the Targets table), and a header line naming them and `note` (when and from
 * which commit). The rest of the doc, from its last full run, is left as it was.
 */
export function replaceSections(markdown, sections, note) {
  let lines = markdown.replace(/\n$/, '').split('\n');
  for (const s of sections) {
    const heading = lines.indexOf(`## ${s.title}`);
    if (heading < 0) throw new Error(`docs/benchmarks.md has no section "${s.title}": run the whole suite`);
    let end = lines.findIndex((line, i) => i > heading && line.startsWith('## '));
    if (end < 0) end = lines.length;
    // The blank line before the next heading stays.
    lines.splice(heading, end - heading - (end < lines.length ? 1 : 0), ...sectionLines(s));
    const rowPrefix = `| ${s.title} | `;
    const first = lines.findIndex((line) => line.startsWith(rowPrefix));
    lines = lines.filter((line) => !line.startsWith(rowPrefix));
    if (first >= 0) lines.splice(first, 0, ...targetRows(s));
  }
  const titles = sections.map((s) => s.title).join(', ');
  const updatedPrefix = `- Regenerated alone since (BENCH_UPDATE): ${titles}, `;
  // An earlier update of the same sections is superseded.
  lines = lines.filter((line) => !line.startsWith(updatedPrefix));
  const updated = `${updatedPrefix}${note}`;
  const suiteLine = lines.findIndex((line) => line.startsWith('- Suite run time:'));
  lines.splice(suiteLine + 1, 0, updated);
  return `${lines.join('\n')}\n`;
}
