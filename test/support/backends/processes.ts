/**
 * Starting and stopping a real backend (a Java, Go or Erlang program) for the backend suite:
 * a free port on 127.0.0.1, the process's output kept for the failure message, a readiness
 * probe, and a stop that waits for the process to exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The folder the install-*.sh scripts fill (scripts/backends/common.sh). */
export function backendsCache(): string {
  return process.env.GATEWAY_ZIPKIN_CACHE ?? path.join(os.homedir(), '.cache', 'gateway-zipkin');
}

/**
 * `count` different ports that were free on 127.0.0.1 a moment ago: all held open together,
 * since one port closed and asked for again may come back (a backend given two equal ports
 * fails with "address already in use").
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer());
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What a test does with a broker it started: stop or kill it, start it again, read it, remove it. */
export interface ControlledBroker {
  /** Stops the broker (SIGTERM, a clean shutdown); the data stays for `start()`. */
  stop(): Promise<void>;
  /** SIGKILL: a broker that dies under load. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it serves. */
  start(): Promise<void>;
  /** The broker's output so far. */
  output(): string;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

export interface BackendProcessOptions {
  /** Shown in messages: "zipkin", "kafka", ... */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the backend serves; gets the output so far. Polled every 250 ms. */
  ready: (output: string) => Promise<boolean>;
  /** How long to wait for `ready` (default 120 s: a JVM on 2 busy cores). */
  readyTimeoutMs?: number;
}

export interface BackendProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once: a backend that dies under load. */
  kill(): Promise<void>;
}

const OUTPUT_LIMIT = 256 * 1024;

export async function startBackend(options: BackendProcessOptions): Promise<BackendProcess> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() reaches the JVM or beam's children
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const signal = (sig: NodeJS.Signals): void => {
    if (hasExited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const stop = async (graceMs = 15000): Promise<void> => {
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const backend: BackendProcess = {
    name: options.name,
    child,
    output: () => output,
    stop,
    kill: async () => {
      signal('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120000);
  for (;;) {
    if (hasExited) {
      throw new Error(`${options.name} exited before it was ready (code ${child.exitCode}):\n${output.slice(-4000)}`);
    }
    if (await options.ready(output).catch(() => false)) return backend;
    if (Date.now() > deadline) {
      await stop(2000);
      throw new Error(`${options.name} was not ready in time:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The part of a `ControlledBroker` that runs its process: `launch` starts it (again) on the
 * same ports and data; `stop` waits up to 20 s for a clean shutdown.
 */
export function restartable(
  launch: () => Promise<BackendProcess>,
): Pick<ControlledBroker, 'start' | 'stop' | 'kill' | 'output'> {
  let proc: BackendProcess | null = null;
  const take = (): BackendProcess | null => {
    const p = proc;
    proc = null;
    return p;
  };
  return {
    start: async () => {
      proc = await launch();
    },
    stop: async () => {
      await take()?.stop(20000);
    },
    kill: async () => {
      await take()?.kill();
    },
    output: () => proc?.output() ?? '',
  };
}

/** A fresh folder for one backend's data, under the OS temp dir. */
export function dataDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gz-${name}-`));
}
