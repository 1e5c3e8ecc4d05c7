/**
 * Draws one trace as a text waterfall, for the development receiver:
 *
 *   trace 4bf92f3577b34da6a3ce929d0e0e4736 · 3 spans · 10.000ms
 *   GET                     kong │◆███◆███████████████████████████████████│ 10.000ms → 127.0.0.1:51000
 *   │  ◆ krs +0µs  ◆ krf +1.000ms
 *   ├─ GET (proxy)          kong │    ◆█◆█████████████████████████◆█████  │  8.500ms → 127.0.0.1:9001
 *   │     ◆ kas +1.000ms  ◆ kaf +1.500ms  ◆ khs +8.000ms
 *   └─ GET (balancer try 1) kong │      ██                                │    500µs → 127.0.0.1:9001
 *
 * One row per span, indented under its parent (children by start time), with its name,
 * local service, a bar placed and scaled on the trace's time span, its duration and its
 * remote endpoint. Annotations are `◆` marks on the bar and are listed under the row with
 * their offset from the trace start; tags are listed too when asked. A shared span (the
 * server half of a span id used on both sides) is drawn under its client half, and the
 * children of that id under the shared half, as Zipkin's UI does. Spans whose parent is
 * not in the trace are drawn as roots.
 */
import type { ReceivedSpan } from './span-validator';

export interface WaterfallOptions {
  /** Bar width in columns (default 40). */
  readonly width?: number;
  /** List each span's tags under its row (default false). */
  readonly showTags?: boolean;
}

const FILL = '█';
const MARK = '◆';
const MAX_LABEL = 48;
const MAX_SERVICE = 24;

interface Node {
  readonly span: ReceivedSpan;
  readonly order: number;
  readonly children: Node[];
  parent: Node | null;
}

/** `812µs`, `12.345ms`, `1.234s`. */
export function formatMicros(us: number): string {
  if (us < 1000) return `${us}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(3)}ms`;
  return `${(us / 1_000_000).toFixed(3)}s`;
}

function byStart(a: Node, b: Node): number {
  const ta = a.span.timestamp ?? Number.POSITIVE_INFINITY;
  const tb = b.span.timestamp ?? Number.POSITIVE_INFINITY;
  return ta === tb ? a.order - b.order : ta < tb ? -1 : 1;
}

/** Links spans into a forest; returns the roots in start order. */
function buildTree(spans: readonly ReceivedSpan[]): Node[] {
  const nodes: Node[] = spans.map((span, order) => ({ span, order, children: [], parent: null }));
  const client = new Map<string, Node>();
  const server = new Map<string, Node>();
  for (const n of nodes) {
    const map = n.span.shared === true ? server : client;
    if (!map.has(n.span.id)) map.set(n.span.id, n);
  }
  for (const n of nodes) {
    let parent: Node | undefined;
    if (n.span.shared === true) parent = client.get(n.span.id);
    if ((parent === undefined || parent === n) && n.span.parentId !== undefined) {
      parent = server.get(n.span.parentId) ?? client.get(n.span.parentId);
    }
    if (parent === undefined || parent === n) continue;
    // Refuse links that would close a cycle; such spans are drawn as roots.
    let up: Node | null = parent;
    while (up !== null && up !== n) up = up.parent;
    if (up === n) continue;
    n.parent = parent;
    parent.children.push(n);
  }
  for (const n of nodes) n.children.sort(byStart);
  return nodes.filter((n) => n.parent === null).sort(byStart);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

function endpointText(span: ReceivedSpan): string {
  const e = span.remoteEndpoint;
  if (e === undefined) return '';
  const ip = e.ipv4 ?? (e.ipv6 !== undefined ? `[${e.ipv6}]` : undefined);
  const addr =
    ip === undefined ? (e.port !== undefined ? `:${e.port}` : '') : e.port !== undefined ? `${ip}:${e.port}` : ip;
  const parts = [e.serviceName, addr].filter((p) => p !== undefined && p !== '');
  return parts.length === 0 ? '' : ` → ${parts.join(' ')}`;
}

/** Renders one trace (spans of a single trace id, any order). Ends with a newline. */
export function renderWaterfall(spans: readonly ReceivedSpan[], options: WaterfallOptions = {}): string {
  const width = Math.max(1, options.width ?? 40);
  const roots = buildTree(spans);

  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const s of spans) {
    if (s.timestamp === undefined) continue;
    start = Math.min(start, s.timestamp);
    end = Math.max(end, s.timestamp + (s.duration ?? 0));
  }
  const timed = start !== Number.POSITIVE_INFINITY;
  const total = timed ? end - start : 0;
  const scale = total > 0 ? width / total : 0;
  const col = (t: number): number => Math.min(width - 1, Math.max(0, Math.floor((t - start) * scale)));

  interface Row {
    label: string;
    service: string;
    bar: string;
    duration: string;
    remote: string;
    details: string[];
  }
  const rows: Row[] = [];

  const visit = (node: Node, linePrefix: string, childPrefix: string): void => {
    const s = node.span;
    const cells: string[] = new Array<string>(width).fill(' ');
    if (timed && s.timestamp !== undefined) {
      const from = col(s.timestamp);
      const to = total > 0 ? Math.ceil((s.timestamp + (s.duration ?? 0) - start) * scale) : width;
      for (let c = from; c < Math.max(from + 1, Math.min(width, to)); c++) cells[c] = FILL;
    }
    const details: string[] = [];
    // Kong adds annotations phase by phase, not in time order; a reader wants time order.
    const annotations = [...(s.annotations ?? [])].sort((a, b) => a.timestamp - b.timestamp);
    if (annotations.length > 0) {
      for (const a of annotations) if (timed) cells[col(a.timestamp)] = MARK;
      details.push(
        annotations
          .map((a) =>
            `${MARK} ${a.value} ${timed ? `+${formatMicros(Math.max(0, a.timestamp - start))}` : ''}`.trimEnd(),
          )
          .join('  '),
      );
    }
    if (options.showTags === true && s.tags !== undefined) {
      for (const key of Object.keys(s.tags).sort()) details.push(`${key}=${s.tags[key]}`);
    }
    const detailPrefix = childPrefix + (node.children.length > 0 ? '│  ' : '   ');
    rows.push({
      label: clip(linePrefix + (s.name ?? '(unnamed)'), MAX_LABEL),
      service: clip(s.localEndpoint?.serviceName ?? '?', MAX_SERVICE),
      bar: cells.join(''),
      duration: s.duration !== undefined ? formatMicros(s.duration) : '?',
      remote: endpointText(s),
      details: details.map((d) => detailPrefix + d),
    });
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      visit(child, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '));
    });
  };
  for (const root of roots) visit(root, '', '');

  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const serviceWidth = Math.max(...rows.map((r) => r.service.length));
  const durationWidth = Math.max(...rows.map((r) => r.duration.length));
  const traceId = spans.length > 0 ? spans[0].traceId : '';
  const count = `${spans.length} span${spans.length === 1 ? '' : 's'}`;
  let out = `trace ${traceId} · ${count} · ${timed ? formatMicros(total) : '?'}\n`;
  for (const r of rows) {
    out += `${r.label.padEnd(labelWidth)} ${r.service.padEnd(serviceWidth)} │${r.bar}│ ${r.duration.padStart(durationWidth)}${r.remote}\n`;
    for (const d of r.details) out += d + '\n';
  }
  return out;
}
