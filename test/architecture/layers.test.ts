/**
 * The core layers import only downward (config < propagation < trace < export) and never
 * the edges (integrations, gateway, receiver). Read from the sources, so a new import that
 * runs back up fails here with the file and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = resolve(__dirname, '../../src');
const CORE = ['config', 'propagation', 'trace', 'export'];
const EDGES = ['integrations', 'gateway', 'receiver'];
/** Files at the top of src/ that every layer may use (no imports of their own into layers). */
const SHARED_ROOT_FILES = ['logger'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative module specifiers of every import / export-from / require in `text`. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.[^'"]*)['"]/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) found.push(m[1]);
  return found;
}

/** The src/ folder (or root file name) a path belongs to. */
function areaOf(file: string): string {
  const first = relative(SRC, file).split(sep)[0];
  return first.replace(/\.ts$/, '');
}

/** Every import of a src/ file that breaks the rule, as `file -> import`. */
function violations(): string[] {
  const out: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = areaOf(file);
    const rank = CORE.indexOf(from);
    if (rank < 0) continue;
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const to = areaOf(resolve(dirname(file), spec));
      const allowed = SHARED_ROOT_FILES.includes(to) || (CORE.includes(to) && CORE.indexOf(to) <= rank);
      if (!allowed) out.push(`${relative(SRC, file)} -> ${spec}`);
    }
  }
  return out.sort();
}

describe('layers', () => {
  it('finds the imports it checks', () => {
    expect(
      relativeImports(
        "import { a } from '../export/queue';\nexport * from './b';\nconst c = require('../gateway/cli');",
      ),
    ).toEqual(['../export/queue', './b', '../gateway/cli']);
    expect(areaOf(join(SRC, 'trace', 'clock.ts'))).toBe('trace');
    expect(areaOf(join(SRC, 'logger.ts'))).toBe('logger');
  });

  it('core layers import only downward and never the edges', () => {
    expect(violations()).toEqual([]);
  });

  it('every edge folder exists, so the rule speaks of the real layout', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(folders).toEqual([...CORE, ...EDGES].sort());
  });
});
