/**
 * The zipkin2 Java codec (io.zipkin.zipkin2:zipkin, the decoder of the Zipkin server,
 * SkyWalking and Pitchfork, zipkin-backends §5.2 and §5.3) on request bodies: runs
 * test/support/backends/codec/ZipkinDecode.java, compiled by scripts/backends/install-codec.sh.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backendsCache, dataDir } from './processes';
import type { StoredSpan } from './zipkin';

export const CODEC_VERSION = '3.6.0';

export type CodecResult =
  { ok: true; encoding: 'JSON_V2' | 'PROTO3'; gzip: boolean; spans: StoredSpan[] } | { ok: false; error: string };

function parseLine(line: string): CodecResult {
  const ok = /^OK (JSON_V2|PROTO3) (gzip|plain) (.*)$/.exec(line);
  if (ok !== null) {
    return {
      ok: true,
      encoding: ok[1] as 'JSON_V2' | 'PROTO3',
      gzip: ok[2] === 'gzip',
      spans: JSON.parse(ok[3]) as StoredSpan[],
    };
  }
  return { ok: false, error: line.replace(/^ERROR /, '') };
}

/** Decodes each body (raw request bytes: JSON v2 or proto3, gzipped or not); one result each. */
export async function decodeWithZipkin2(bodies: readonly Buffer[]): Promise<CodecResult[]> {
  if (bodies.length === 0) return [];
  const dir = dataDir('codec');
  try {
    const files = bodies.map((body, i) => {
      const file = path.join(dir, `body-${i}`);
      fs.writeFileSync(file, body);
      return file;
    });
    const cache = backendsCache();
    const classpath = [path.join(cache, `zipkin-${CODEC_VERSION}.jar`), path.join(cache, `codec-${CODEC_VERSION}`)];
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        'java',
        ['-Xmx128m', '-XX:TieredStopAtLevel=1', '-cp', classpath.join(path.delimiter), 'ZipkinDecode', ...files],
        { maxBuffer: 256 * 1024 * 1024 },
        (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)),
      ),
    );
    const lines = stdout.split('\n').filter((line) => line !== '');
    if (lines.length !== bodies.length)
      throw new Error(`codec printed ${lines.length} lines for ${bodies.length} bodies`);
    return lines.map(parseLine);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
