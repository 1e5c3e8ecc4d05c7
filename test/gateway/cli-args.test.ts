/** The command line's parser (node:util parseArgs underneath) and its short usage messages. */
import { availableParallelism } from 'node:os';
import { parseCliArgs } from '../../src/gateway/cli-args';

describe('parseCliArgs', () => {
  test('gateway options, as the next argument or after =, --stream-listen repeatable', () => {
    expect(
      parseCliArgs([
        '--config=k.yml',
        '--listen',
        '127.0.0.1:0',
        '--stream-listen',
        '127.0.0.1:1',
        '--stream-listen=[::1]:2',
        '--status-listen',
        '127.0.0.1:0',
      ]),
    ).toEqual({
      kind: 'gateway',
      config: 'k.yml',
      listen: { host: '127.0.0.1', port: 0 },
      streamListen: [
        { host: '127.0.0.1', port: 1 },
        { host: '::1', port: 2 },
      ],
      drainTimeoutMs: 25_000,
      statusListen: { host: '127.0.0.1', port: 0 },
    });
    expect(parseCliArgs(['--config', 'k.yml'])).toEqual({
      kind: 'gateway',
      config: 'k.yml',
      listen: { host: '127.0.0.1', port: 8000 },
      streamListen: [],
      drainTimeoutMs: 25_000,
      statusListen: null,
    });
    expect(parseCliArgs(['--config', 'k.yml', '--status-listen=[::1]:8100'])).toMatchObject({
      statusListen: { host: '::1', port: 8100 },
    });
    expect(parseCliArgs(['--config', 'k.yml', '--drain-timeout', '1.5'])).toMatchObject({ drainTimeoutMs: 1500 });
  });

  test('--workers: a count from 1, or auto (one per core); absent without the option', () => {
    expect(parseCliArgs(['--config', 'k.yml'])).not.toHaveProperty('workers');
    expect(parseCliArgs(['--config', 'k.yml', '--workers', '1'])).toMatchObject({ workers: 1 });
    expect(parseCliArgs(['--config', 'k.yml', '--workers=4'])).toMatchObject({ workers: 4 });
    expect(parseCliArgs(['--config', 'k.yml', '--workers', 'auto'])).toMatchObject({ workers: availableParallelism() });
  });

  test('receive and help', () => {
    expect(parseCliArgs(['receive', '--json', '--tags'])).toEqual({
      kind: 'receive',
      listen: { host: '127.0.0.1', port: 9411 },
      json: true,
      tags: true,
    });
    expect(parseCliArgs(['receive', '--listen=[::1]:0'])).toEqual({
      kind: 'receive',
      listen: { host: '::1', port: 0 },
      json: false,
      tags: false,
    });
    expect(parseCliArgs(['--config', 'k', '-h'])).toEqual({ kind: 'help' });
  });

  test.each([
    [['--port', '1'], "unknown option '--port'"],
    [['--config'], '--config needs a value'],
    [['--config='], '--config needs a value'],
    [['--config', 'k', '--listen'], '--listen needs a value'],
    [['--config', 'k', '--listen', '--json'], '--listen needs a value'],
    [['receive', '--json=1'], '--json takes no value'],
    [['receive', '--config', 'x'], "unknown option '--config' for receive"],
    [['--config', 'k', 'extra'], "unexpected argument 'extra'"],
    [['receive', '--listen', 'bad'], "--listen: expected HOST:PORT (e.g. 127.0.0.1:8000, [::1]:0), got 'bad'"],
    [['--listen', '127.0.0.1:1'], '--config FILE is required'],
    [['--config', 'k', '--drain-timeout', 'soon'], "--drain-timeout: expected seconds (e.g. 25), got 'soon'"],
    [['--config', 'k', '--drain-timeout=-1'], "--drain-timeout: expected seconds (e.g. 25), got '-1'"],
    [['--config', 'k', '--status-listen'], '--status-listen needs a value'],
    [
      ['--config', 'k', '--status-listen', '8100'],
      "--status-listen: expected HOST:PORT (e.g. 127.0.0.1:8000, [::1]:0), got '8100'",
    ],
    ...['0', '-1', '1.5', 'two', '', ' 2', '1e3', '99999999999999999999'].map((n): [string[], string] => [
      ['--config', 'k', `--workers=${n}`],
      n === ''
        ? '--workers needs a value'
        : `--workers: expected a number of processes (1 or more) or 'auto', got '${n}'`,
    ]),
    [['--config', 'k', '--workers'], '--workers needs a value'],
  ])('%j is refused: %s', (args, message) => {
    expect(() => parseCliArgs(args)).toThrow(expect.objectContaining({ name: 'UsageError', message }));
  });
});
