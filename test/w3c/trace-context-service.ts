/**
 * Our test service for the official W3C Trace Context test suite (github.com/w3c/trace-context,
 * `test/`), run by hand: the suite's code stays out of this repository, and CI has no GitHub.
 * The README's "W3C Trace Context test suite" has the commands and the results.
 *
 * The harness POSTs a JSON array of `{url, arguments}` with the trace headers under test;
 * the service POSTs each `arguments` to its `url` with the propagated headers, and the harness
 * checks the headers of those callbacks.
 *
 *     node build/test/w3c/trace-context-service.js propagator [--port 5000] [--stock]
 *     node build/test/w3c/trace-context-service.js gateway [--port 5000] [--plugin global|callback]
 *
 * - `propagator`: a node:http server with `createPropagator({extract: ['w3c'], inject: ['w3c'],
 *   default_format: 'w3c'})` (or, with `--stock`, OTel's `W3CTraceContextPropagator`, for
 *   comparison) on a `BasicTracerProvider` with the AsyncLocalStorage context manager: the
 *   incoming context is extracted, a SERVER span started under it, and each callback gets its
 *   own CLIENT span, injected into the outgoing POST. The endpoint is
 *   `http://127.0.0.1:<port>/test`.
 * - `gateway`: the CLI gateway (`dist/gateway/cli.js`, so `npm run build` first) from a decK
 *   file with a zipkin plugin (propagation w3c) and two routes: `/test` to a tiny app on a free
 *   port, and `/` (everything else) to the harness. The app is not a tracer: it makes each
 *   callback through the gateway, to the gateway's `/<scope>.<n>`, with the `traceparent` and
 *   `tracestate` it received, so what the harness sees is what the gateway injected (each
 *   callback its own proxied request, hence its own span id). With `--plugin global` (the
 *   default) the plugin is global, so both hops run it (harness → gateway → app, app → gateway
 *   → harness); with `--plugin callback` only the callback route has it and the first hop is a
 *   plain proxy, so the harness sees exactly one pass through the plugin. The endpoint is
 *   `http://127.0.0.1:<port>/test` (the gateway's port).
 *
 * HARNESS_HOST / HARNESS_PORT (the harness' defaults: 127.0.0.1, 7777) say where the
 * gateway's harness route goes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  SpanKind,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createPropagator } from '../../src/propagation';

interface Action {
  url: string;
  arguments: unknown;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => done(body));
    req.on('error', fail);
  });
}

function post(url: string, body: unknown, headers: Record<string, string>): Promise<void> {
  const data = JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => done());
      },
    );
    req.on('error', fail);
    req.end(data);
  });
}

function actionsOf(body: string): Action[] {
  const parsed: unknown = body === '' ? [] : JSON.parse(body);
  return Array.isArray(parsed) ? (parsed as Action[]) : [];
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((done) => server.listen(port, '127.0.0.1', () => done((server.address() as AddressInfo).port)));
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function propagatorMode(port: number, stock: boolean): Promise<void> {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const tracer = new BasicTracerProvider().getTracer('w3c-trace-context-service');
  const propagator: TextMapPropagator = stock
    ? new W3CTraceContextPropagator()
    : createPropagator({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' });
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const actions = actionsOf(await readBody(req));
        const incoming = propagator.extract(context.active(), req.headers, defaultTextMapGetter);
        const serverSpan = tracer.startSpan('test', { kind: SpanKind.SERVER }, incoming);
        await context.with(trace.setSpan(incoming, serverSpan), async () => {
          for (const action of actions) {
            const clientSpan = tracer.startSpan('callback', { kind: SpanKind.CLIENT });
            const headers: Record<string, string> = {};
            propagator.inject(trace.setSpan(context.active(), clientSpan), headers, defaultTextMapSetter);
            await post(action.url, action.arguments, headers);
            clientSpan.end();
          }
        });
        serverSpan.end();
        reply(res, 200, {});
      } catch (err) {
        reply(res, 500, { error: String(err) });
      }
    })();
  });
  const bound = await listen(server, port);
  process.stdout.write(
    `${stock ? 'stock W3CTraceContextPropagator' : 'createPropagator'} service on http://127.0.0.1:${bound}/test\n`,
  );
}

async function gatewayMode(port: number, scope: 'global' | 'callback'): Promise<void> {
  const harnessHost = process.env.HARNESS_HOST ?? '127.0.0.1';
  const harnessPort = Number(process.env.HARNESS_PORT ?? '7777');
  let gatewayOrigin = '';
  const app = http.createServer((req, res) => {
    void (async () => {
      try {
        const actions = actionsOf(await readBody(req));
        // Not a tracer: the trace headers go on as received, every callback through the gateway.
        const headers: Record<string, string> = {};
        for (const name of ['traceparent', 'tracestate']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        for (const action of actions) {
          const url = new URL(action.url);
          await post(gatewayOrigin + url.pathname + url.search, action.arguments, headers);
        }
        reply(res, 200, {});
      } catch (err) {
        reply(res, 500, { error: String(err) });
      }
    })();
  });
  const appPort = await listen(app, 0);
  const zipkin = {
    name: 'zipkin',
    config: {
      sample_ratio: 1,
      propagation: { extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' },
    },
  };
  const deck = {
    _format_version: '3.0',
    services: [
      {
        name: 'app',
        url: `http://127.0.0.1:${appPort}`,
        routes: [{ name: 'test', paths: ['/test'], strip_path: false }],
      },
      {
        name: 'harness',
        url: `http://${harnessHost}:${harnessPort}`,
        routes: [
          {
            name: 'callbacks',
            paths: ['/'],
            strip_path: false,
            ...(scope === 'callback' ? { plugins: [zipkin] } : {}),
          },
        ],
      },
    ],
    ...(scope === 'global' ? { plugins: [zipkin] } : {}),
  };
  const dir = mkdtempSync(join(tmpdir(), 'w3c-trace-context-'));
  const file = join(dir, 'kong.json');
  writeFileSync(file, JSON.stringify(deck, null, 2));
  const cli = resolve(__dirname, '../../../dist/gateway/cli.js');
  const child = spawn(process.execPath, [cli, '--config', file, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = (): void => {
    child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => {
    rmSync(dir, { recursive: true, force: true });
    app.close();
    process.exit(code ?? 0);
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const m = /proxy listening on (http:\/\/\S+)/.exec(chunk);
    if (m !== null && gatewayOrigin === '') {
      gatewayOrigin = m[1];
      process.stdout.write(`gateway (zipkin plugin: ${scope}) service on ${gatewayOrigin}/test\n`);
    }
  });
}

function main(argv: readonly string[]): void {
  const mode = argv[0];
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const port = Number(option('--port') ?? '5000');
  if (mode === 'propagator') void propagatorMode(port, argv.includes('--stock'));
  else if (mode === 'gateway') void gatewayMode(port, option('--plugin') === 'callback' ? 'callback' : 'global');
  else {
    process.stderr.write(
      'usage: trace-context-service.js propagator [--port N] [--stock] | gateway [--port N] [--plugin global|callback]\n',
    );
    process.exit(2);
  }
}

main(process.argv.slice(2));
