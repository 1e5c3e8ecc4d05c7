import * as net from 'node:net';
import { proxyTcp, traceConnection, trackUpstreamSocket } from '../../src/integrations';
import { kongSpans, micros, tags, testPlugin, waitForSpans } from './helpers';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** Connect, send `ping`, read until close. */
function exchange(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let data = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write('ping'));
    c.on('data', (d: string) => {
      data += d;
      if (data === 'ping') c.end();
    });
    c.on('error', () => undefined);
    c.on('close', () => resolve(data));
  });
}

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function echoUpstream(): Promise<number> {
  const s = net.createServer((socket) => socket.pipe(socket));
  servers.push(s);
  return listen(s);
}

async function proxy(handler: (client: net.Socket) => void): Promise<number> {
  const s = net.createServer(handler);
  servers.push(s);
  return listen(s);
}

describe('node:net stream proxy', () => {
  test('a refused try, then a retry: two balancer spans, the first with Kong’s failure tags', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const up = await echoUpstream();
    const refused = await closedPort();
    // Two targets, Kong-style: the balancer moves on to the next target after a failure.
    const port = await proxy((client) => {
      const trace = traceConnection(plugin, client, { service: { id: 's', name: 'db' } });
      client.pause();
      trace.prereadEnd();
      const targets = [refused, up];
      const attempt = (i: number): void => {
        trace.balancerTry({ hostname: '127.0.0.1', ip: '127.0.0.1', port: targets[i] });
        const upstream = net.connect(targets[i], '127.0.0.1');
        trackUpstreamSocket(trace, upstream);
        upstream.on('error', () => (i + 1 < targets.length ? attempt(i + 1) : client.destroy()));
        upstream.on('connect', () => {
          upstream.pipe(client);
          client.pipe(upstream);
          client.resume();
        });
      };
      attempt(0);
    });
    expect(await exchange(port)).toBe('ping');
    const spans = await waitForSpans(exporter, 4);
    expect(spans.map((s) => s.name)).toEqual([
      'stream (balancer try 1)',
      'stream (balancer try 2)',
      'stream (proxy)',
      'stream',
    ]);
    const { balancers } = kongSpans(spans);
    expect(tags(balancers[0])).toEqual({
      'kong.balancer.try': '1',
      error: 'true',
      'kong.balancer.state': 'failed',
      'http.status_code': '502',
      'kong.service': 's',
      'kong.service_name': 'db',
      'peer.service': 'db',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(refused),
    });
    expect(tags(balancers[1])).toEqual({
      'kong.balancer.try': '2',
      'kong.service': 's',
      'kong.service_name': 'db',
      'peer.service': 'db',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(up),
    });
    expect(micros(balancers[0].endTime)).toBeLessThanOrEqual(micros(balancers[1].startTime));
  });

  test('proxyTcp retries: every attempt is a try; all refused → client closed, spans still reported', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const refused = await closedPort();
    const port = await proxy((client) => proxyTcp(plugin, client, { host: '127.0.0.1', port: refused, retries: 2 }));
    expect(await exchange(port)).toBe('');
    const spans = await waitForSpans(exporter, 5);
    expect(spans.map((s) => s.name)).toEqual([
      'stream (balancer try 1)',
      'stream (balancer try 2)',
      'stream (balancer try 3)',
      'stream (proxy)',
      'stream',
    ]);
    const { balancers } = kongSpans(spans);
    expect(balancers.map((b) => b.attributes['error'])).toEqual([true, true, undefined]);
    expect(balancers.map((b) => b.attributes['kong.balancer.state'])).toEqual(['failed', 'failed', undefined]);
  });

  test('tags flavor: kong.preread.duration_ms instead of kps/kpf', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, phase_duration_flavor: 'tags' });
    const up = await echoUpstream();
    const port = await proxy((client) => proxyTcp(plugin, client, { host: '127.0.0.1', port: up }));
    expect(await exchange(port)).toBe('ping');
    const { request, proxy: p } = kongSpans(await waitForSpans(exporter, 3));
    expect(request.events).toEqual([]);
    expect(p.events).toEqual([]);
    expect(typeof p.attributes['kong.preread.duration_ms']).toBe('number');
    expect(p.attributes['kong.preread.duration_ms'] as number).toBeGreaterThanOrEqual(0);
  });

  test('sample_ratio 0: no spans (stream never extracts)', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 0 });
    const up = await echoUpstream();
    const port = await proxy((client) => proxyTcp(plugin, client, { host: '127.0.0.1', port: up }));
    expect(await exchange(port)).toBe('ping');
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  test('proxyTcp half-close: the client ends its side after sending and still gets the whole answer', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    // An upstream that answers only once the request has ended (its side stays open).
    const s = net.createServer({ allowHalfOpen: true }, (socket) => {
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (got += d));
      socket.on('end', () => socket.end(`got ${got}`));
    });
    servers.push(s);
    const up = await listen(s);
    // The proxy's server must be half-open too, or Node ends the client socket on its FIN.
    const gw = net.createServer({ allowHalfOpen: true }, (client) =>
      proxyTcp(plugin, client, { host: '127.0.0.1', port: up }),
    );
    servers.push(gw);
    const port = await listen(gw);
    const answer = await new Promise<string>((resolve) => {
      const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let data = '';
      c.setEncoding('utf8');
      c.on('connect', () => c.end('ping'));
      c.on('data', (d: string) => (data += d));
      c.on('close', () => resolve(data));
    });
    expect(answer).toBe('got ping');
    expect((await waitForSpans(exporter, 3)).map((x) => x.name)).toEqual([
      'stream (balancer try 1)',
      'stream (proxy)',
      'stream',
    ]);
  });

  test('proxyTcp idleTimeout: a connected session with no traffic is closed', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const up = await echoUpstream();
    const port = await proxy((client) => proxyTcp(plugin, client, { host: '127.0.0.1', port: up, idleTimeout: 100 }));
    const started = Date.now();
    const echoed = await new Promise<string>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      let data = '';
      c.setEncoding('utf8');
      c.on('connect', () => c.write('ping'));
      c.on('data', (d: string) => (data += d));
      c.on('error', () => undefined);
      c.on('close', () => resolve(data));
    });
    expect(echoed).toBe('ping');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect((await waitForSpans(exporter, 3)).map((x) => x.name)).toEqual([
      'stream (balancer try 1)',
      'stream (proxy)',
      'stream',
    ]);
  });
});
