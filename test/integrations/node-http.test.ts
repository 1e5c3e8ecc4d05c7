import * as http from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { traceHttp, traceServer, zipkinMiddleware, zipkinProxyPlugin, zipkinRoute } from '../../src/integrations';
import {
  annotations,
  eventNames,
  kongSpans,
  type Listening,
  listen,
  send,
  startUpstream,
  tags,
  testPlugin,
  upstreamHeaders,
  waitForSpans,
} from './helpers';

const open: Listening[] = [];
afterEach(async () => {
  while (open.length > 0) await (open.pop() as Listening).close();
});

async function serve(handler: http.RequestListener): Promise<Listening> {
  const l = await listen(http.createServer(handler));
  open.push(l);
  return l;
}

describe('node:http response hooks', () => {
  test('HEAD: no body, yet khf/kbs at end; the trace header survives explicit writeHead headers', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, http_response_header_for_traceid: 'X-Trace-Id' });
    const srv = await serve((req, res) => {
      const t = traceHttp(plugin, req, res);
      expect(traceHttp(plugin, req, res)).toBe(t);
      res.writeHead(204, { 'x-own': '1' });
      res.end();
    });
    const reply = await send(srv.port, '/x', {}, 'HEAD');
    expect(reply.status).toBe(204);
    expect(reply.headers['x-own']).toBe('1');
    const { request, proxy } = kongSpans(await waitForSpans(exporter, 2));
    expect(reply.headers['x-trace-id']).toBe(request.spanContext().traceId);
    expect(request.name).toBe('HEAD');
    expect(eventNames(proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
    const a = annotations(proxy);
    expect(a.khs).toBeLessThanOrEqual(a.khf);
    expect(a.khf).toBe(a.kbs);
  });

  test('streamed body: khf at the first write, proxy span ends at res.end', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const srv = await serve((req, res) => {
      traceHttp(plugin, req, res);
      res.setHeader('content-type', 'text/plain');
      res.write('a');
      setTimeout(() => {
        res.write('b');
        setTimeout(() => res.end('c'), 20);
      }, 20);
    });
    const reply = await send(srv.port, '/x');
    expect(reply.body).toBe('abc');
    const { proxy } = kongSpans(await waitForSpans(exporter, 2));
    const a = annotations(proxy);
    expect(a.kbf - a.kbs).toBeGreaterThanOrEqual(30_000);
    const end = proxy.endTime[0] * 1e6 + Math.floor(proxy.endTime[1] / 1000);
    expect(end).toBeGreaterThanOrEqual(a.kbs + 30_000);
    expect(end).toBeLessThanOrEqual(a.kbf);
  });
});

describe('plugin precedence and HPM without zipkinRoute', () => {
  test('a route-scoped plugin takes the request over from the global one; unmatched requests stay global', async () => {
    const up = await startUpstream();
    open.push(up);
    const global = testPlugin({ sample_ratio: 1 });
    const scoped = testPlugin({ sample_ratio: 1, static_tags: [{ name: 'scope', value: 'route' }] });
    const app = express();
    app.use(zipkinMiddleware(global.plugin));
    app.use(
      '/api',
      zipkinRoute(scoped.plugin, { service: { id: 's', name: 'svc' } }),
      createProxyMiddleware({ target: `http://127.0.0.1:${up.port}`, plugins: [zipkinProxyPlugin(scoped.plugin)] }),
    );
    const gw = await listen(http.createServer(app));
    open.push(gw);

    await send(gw.port, '/api/x');
    const spans = await waitForSpans(scoped.exporter, 3);
    expect(global.exporter.getFinishedSpans()).toEqual([]);
    expect(tags(kongSpans(spans).request).scope).toBe('route');

    await send(gw.port, '/other');
    const globalSpans = await waitForSpans(global.exporter, 2);
    expect(globalSpans.map((s) => s.name)).toEqual(['GET (proxy)', 'GET']);
    expect(scoped.exporter.getFinishedSpans().length).toBe(3);
  });

  test('HPM plugin alone: access at the proxy start, identity from the plugin, propagation still injected', async () => {
    const up = await startUpstream();
    open.push(up);
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const app = express();
    app.use(
      '/api',
      createProxyMiddleware({
        target: `http://127.0.0.1:${up.port}`,
        plugins: [zipkinProxyPlugin(plugin, { route: { id: 'r1', name: 'r' } })],
      }),
    );
    const gw = await listen(http.createServer(app));
    open.push(gw);
    const reply = await send(gw.port, '/api/x');
    const { request, proxy } = kongSpans(await waitForSpans(exporter, 3));
    expect(tags(request)['http.path']).toBe('/api/x');
    expect(tags(proxy)['kong.route']).toBe('r1');
    expect(tags(proxy)['kong.route_name']).toBe('r');
    expect(upstreamHeaders(reply)['x-b3-spanid']).toBe(proxy.spanContext().spanId);
    expect(eventNames(request)).toEqual(['krf', 'krs']);
    expect(eventNames(proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
  });
});

describe('traceServer', () => {
  test('traces every request from the server’s request event: proxied and unmatched', async () => {
    const up = await startUpstream();
    open.push(up);
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const app = express();
    app.use(
      '/api',
      createProxyMiddleware({
        target: `http://127.0.0.1:${up.port}`,
        plugins: [zipkinProxyPlugin(plugin, { service: { id: 's1', name: 'svc' } })],
      }),
    );
    const server = http.createServer(app);
    traceServer(plugin, server);
    const gw = await listen(server);
    open.push(gw);

    const proxied = await send(gw.port, '/api/x');
    const spans = await waitForSpans(exporter, 3);
    const { request, proxy } = kongSpans(spans);
    expect(upstreamHeaders(proxied)['x-b3-spanid']).toBe(proxy.spanContext().spanId);
    expect(tags(proxy)['kong.service_name']).toBe('svc');
    // The request span starts before Express runs: krs is the server's request event.
    expect(annotations(request).krs).toBeLessThanOrEqual(annotations(proxy).kas);

    exporter.reset();
    const missing = await send(gw.port, '/nope');
    expect(missing.status).toBe(404);
    const unmatched = await waitForSpans(exporter, 2);
    expect(unmatched.map((s) => s.name)).toEqual(['GET (proxy)', 'GET']);
    expect(tags(kongSpans(unmatched).request)['http.status_code']).toBe('404');
  });
});
