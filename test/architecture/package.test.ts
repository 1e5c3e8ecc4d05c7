/**
 * The published package as a user installs it: `npm pack` of the built repository, unpacked
 * under build/ (so its dependencies resolve from this repository's node_modules), then loaded
 * by name. Needs `npm run build` first, as `npm test` does.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
const HOME = join(REPO, 'build', 'package-test');
const INSTALLED = join(HOME, 'node_modules', 'gateway-zipkin');

/** The public API: the names src/index.ts exports at run time, kept stable. */
const PUBLIC_VALUES = [
  'ConfigError',
  'KongQueueSpanProcessor',
  'KongSampler',
  'PropagationEngine',
  'ZipkinExporter',
  'createPropagator',
  'createZipkinPlugin',
  'createZipkinReporter',
  'deprecationWarnings',
  'effectivePropagation',
  'getExtracted',
  'ignoreGatewayRequests',
  'proxyTcp',
  'silentLogger',
  'stderrLogger',
  'traceConnection',
  'traceHttp',
  'traceServer',
  'trackUpstreamRequest',
  'trackUpstreamSocket',
  'validateConfig',
  'withSamplingDecision',
  'zipkinMiddleware',
  'zipkinProxyPlugin',
  'zipkinRoute',
];

let files: string[] = [];

beforeAll(() => {
  rmSync(HOME, { recursive: true, force: true });
  mkdirSync(INSTALLED, { recursive: true });
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', HOME], { cwd: REPO, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed[0].files.map((f) => f.path).sort();
  execFileSync('tar', ['-xzf', join(HOME, packed[0].filename), '-C', INSTALLED, '--strip-components=1']);
}, 60_000);

afterAll(() => rmSync(HOME, { recursive: true, force: true }));

/** Run `code` in a child Node whose working directory is the user's app. */
function runInApp(code: string): string {
  return execFileSync(process.execPath, ['-e', code], { cwd: HOME, encoding: 'utf8' }).trim();
}

describe('the published package', () => {
  it('ships the compiled src, the CLI, the license and the docs, nothing of test, bench or maps', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    expect(files).toContain('CHANGELOG.md');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/gateway/cli.js');
    const outside = files.filter(
      (f) => !/^(dist\/.+\.(js|d\.ts)|LICENSE|README\.md|CHANGELOG\.md|package\.json)$/.test(f),
    );
    expect(outside).toEqual([]);
  });

  it('depends only on what src/ loads: OTel core, resources, sdk-trace-base and yaml; the API as a peer, the broker clients as optional peers', () => {
    const manifest = JSON.parse(runInApp("console.log(JSON.stringify(require('gateway-zipkin/package.json')))")) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    expect(manifest.dependencies).toEqual({
      '@opentelemetry/core': '^2.12.1',
      '@opentelemetry/resources': '^2.12.1',
      '@opentelemetry/sdk-trace-base': '~2.12.1',
      yaml: '^2.9.1',
    });
    expect(manifest.peerDependencies).toEqual({
      '@opentelemetry/api': '>=1.9.0 <1.10.0',
      amqplib: '>=0.10.0 <3',
      kafkajs: '^2.2.0',
    });
    // Loaded only for kafka:// and amqp(s):// endpoints (src/export/optional-peer.ts).
    expect(manifest.peerDependenciesMeta).toEqual({ amqplib: { optional: true }, kafkajs: { optional: true } });
  });

  it('exports exactly the public names', () => {
    expect(JSON.parse(runInApp("console.log(JSON.stringify(Object.keys(require('gateway-zipkin')).sort()))"))).toEqual(
      PUBLIC_VALUES,
    );
  });

  it('refuses deep imports (the exports map), but lets package.json be read', () => {
    expect(
      runInApp(
        "try { require('gateway-zipkin/dist/trace/ids'); console.log('loaded') } catch (e) { console.log(e.code) }",
      ),
    ).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(runInApp("console.log(require('gateway-zipkin/package.json').name)")).toBe('gateway-zipkin');
  });

  it('has declarations a strict TypeScript user compiles against, without internals', () => {
    const consumer = join(HOME, 'consumer.ts');
    writeFileSync(
      consumer,
      [
        "import { createServer } from 'node:http';",
        "import express from 'express';",
        "import { createProxyMiddleware } from 'http-proxy-middleware';",
        "import { createPropagator, createZipkinPlugin, traceHttp, validateConfig, zipkinMiddleware, zipkinProxyPlugin, type ZipkinConfig, type RequestTrace } from 'gateway-zipkin';",
        "const config: ZipkinConfig = validateConfig({ sample_ratio: 1, http_endpoint: 'http://127.0.0.1:9411/api/v2/spans' });",
        'const plugin = createZipkinPlugin(config);',
        'createServer((req, res) => {',
        '  const trace: RequestTrace = traceHttp(plugin, req, res);',
        '  trace.rewriteEnd();',
        '  // @ts-expect-error the trace state is internal',
        '  void trace.runtime;',
        '  res.end();',
        '});',
        '// @ts-expect-error deep imports are outside the exports map',
        "import { randomHex } from 'gateway-zipkin/dist/trace/ids';",
        'void randomHex;',
        'void plugin.shutdown();',
        // The HPM plugin fits HPM's own types without the package depending on HPM.
        "express().use('/api', zipkinMiddleware(plugin), createProxyMiddleware({ target: 'http://127.0.0.1:1', plugins: [zipkinProxyPlugin(plugin)] }));",
        "createPropagator({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' });",
        '// @ts-expect-error Kong requires default_format in a given propagation record',
        "createPropagator({ extract: ['w3c'], inject: ['w3c'] });",
        '',
      ].join('\n'),
    );
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--strict',
      '--noEmit',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      '--types',
      'node',
      consumer,
    ];
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, ...args], { cwd: HOME, encoding: 'utf8' });
    } catch (e) {
      output = String((e as { stdout?: string }).stdout);
    }
    expect(output).toBe('');
  }, 60_000);
});
