/**
 * Every section the code, tests and benchmarks cite exists in docs/ (docs/README.md: a bare
 * `§N.M` is docs/kong-zipkin.md, `otel-notes §N.M` and `zipkin-backends §N.M` are those
 * files), and nothing cites a document outside the repository.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
const SKIP = new Set(['node_modules', 'results', 'fixtures']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const full = join(dir, e.name);
    if (e.isDirectory()) return files(full);
    return /\.(ts|js|md)$/.test(e.name) ? [full] : [];
  });
}

/** Section numbers (`4`, `4.3`) of a Markdown file's numbered headings. */
function sections(doc: string): Set<string> {
  const found = new Set<string>();
  for (const m of readFileSync(join(REPO, 'docs', doc), 'utf8').matchAll(/^#{2,4} (\d+(?:\.\d+)?)\.? /gm))
    found.add(m[1]);
  return found;
}

/** `file:line §x` for every cited section that the cited document does not have. */
function unresolved(): string[] {
  const docs = {
    kong: sections('kong-zipkin.md'),
    otel: sections('otel-notes.md'),
    backends: sections('zipkin-backends.md'),
  };
  const out: string[] = [];
  const sources = ['src', 'test', 'bench', 'examples'].flatMap((d) => files(join(REPO, d)));
  for (const file of [...sources, join(REPO, 'README.md'), join(REPO, 'ARCHITECTURE.md')]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((line, i) => {
      const doc = line.includes('otel-notes')
        ? docs.otel
        : line.includes('zipkin-backends')
          ? docs.backends
          : docs.kong;
      for (const m of line.matchAll(/§(\d+(?:\.\d+)?)(?:[–-](\d+(?:\.\d+)?))?/g)) {
        for (const n of [m[1], m[2]].filter((x): x is string => x !== undefined)) {
          if (!doc.has(n)) out.push(`${relative(REPO, file)}:${i + 1} §${n}`);
        }
      }
    });
  }
  return out;
}

describe('citations', () => {
  it('reads the section numbers of the docs', () => {
    const kong = sections('kong-zipkin.md');
    expect(['1.3', '2.11', '4', '4.2', '6.5', '7'].every((n) => kong.has(n))).toBe(true);
    expect(kong.has('8')).toBe(false);
    expect(sections('otel-notes.md').has('4.10')).toBe(true);
    expect(['4.0', '5.4', '6.1'].every((n) => sections('zipkin-backends.md').has(n))).toBe(true);
  });

  it('every cited section exists', () => {
    expect(unresolved()).toEqual([]);
  });

  it('no file cites a document outside the repository', () => {
    const sources = ['src', 'test', 'bench', 'examples', 'docs'].flatMap((d) => files(join(REPO, d)));
    const outside = [...sources, join(REPO, 'README.md')].filter((f) =>
      /\.\.\/shared|spec\/kong-zipkin|spec\/otel-notes/.test(readFileSync(f, 'utf8')),
    );
    expect(outside.map((f) => relative(REPO, f))).toEqual([]);
  });
});
