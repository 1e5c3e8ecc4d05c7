/**
 * `npm run demo` (the built `build/examples/demo.js`): runs to completion, exits 0, shows
 * every request with its trace, and fits a 100-column terminal.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const DEMO = resolve(__dirname, '../../build/examples/demo.js');

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [DEMO], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

test('the demo runs end to end and exits 0', async () => {
  const { code, stdout, stderr } = await runDemo();
  expect(stderr).toBe('');
  expect(code).toBe(0);
  for (const label of [
    'w3c',
    'b3',
    'b3-single',
    'jaeger',
    'ot',
    'datadog',
    'aws',
    'gcp',
    'instana',
    'no headers',
    'sampled out',
    'no route',
  ]) {
    expect(stdout).toContain(`── ${label} ─`);
  }
  // Every sampled request's trace is drawn: 10 proxied + the 404.
  expect(stdout.match(/^trace [0-9a-f]{32} · \d+ spans · /gm)).toHaveLength(11);
  expect(stdout).toMatch(
    /GET \(balancer try 1\) 127\.0\.0\.1:\d+ error=true kong\.balancer\.state=failed http\.status_code=502/,
  );
  expect(stdout).toContain('GET /nowhere → 404');
  expect(stdout).toContain('  no spans: not sampled (the upstream was told: x-b3-sampled: 0)');
  expect(stdout).toContain('info SIGTERM received: finishing requests in flight and delivering queued spans');
  expect(stdout).toMatch(/gateway exited with 0; the receiver got \d+ spans in 11 traces\.\n$/);
  for (const line of stdout.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
});
