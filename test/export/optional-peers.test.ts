/**
 * kafkajs and amqplib are optional peers (src/export/optional-peer.ts): a reporter for a
 * broker endpoint whose client is not installed fails at start-up with what to install; an
 * HTTP endpoint never loads either; gzip is refused for amqp (Zipkin cannot read it).
 */
import { validateConfig } from '../../src/config/validate';
import { createZipkinReporter } from '../../src/export/reporter';
import { silentLogger } from '../../src/logger';

function notInstalled(name: string): () => never {
  return () => {
    const err = new Error(`Cannot find module '${name}'`) as NodeJS.ErrnoException;
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  };
}

function reporterWithout(name: string, endpoint: string): () => unknown {
  return () =>
    jest.isolateModules(() => {
      jest.doMock(name, notInstalled(name));
      // The reporter loaded afresh: its require of the client meets the mock.
      const { createZipkinReporter: create } =
        jest.requireActual<typeof import('../../src/export/reporter')>('../../src/export/reporter');
      create(validateConfig({ http_endpoint: endpoint }), { pluginId: 'p1', logger: silentLogger });
    });
}

test('kafka:// without kafkajs', () => {
  expect(reporterWithout('kafkajs', 'kafka://k1:9092')).toThrow(
    'install kafkajs to use kafka:// endpoints (npm install kafkajs): it is an optional peer dependency of gateway-zipkin',
  );
});

test('amqp:// without amqplib', () => {
  expect(reporterWithout('amqplib', 'amqp://rabbit')).toThrow(
    'install amqplib to use amqp:// and amqps:// endpoints (npm install amqplib): it is an optional peer dependency of gateway-zipkin',
  );
});

test('an HTTP endpoint needs neither', () => {
  expect(reporterWithout('kafkajs', 'http://zipkin:9411/api/v2/spans')).not.toThrow();
  expect(reporterWithout('amqplib', 'http://zipkin:9411/api/v2/spans')).not.toThrow();
});

test('gzip is refused for amqp endpoints', () => {
  expect(() =>
    createZipkinReporter(validateConfig({ http_endpoint: 'amqp://rabbit' }), {
      pluginId: 'p1',
      logger: silentLogger,
      gzip: true,
    }),
  ).toThrow("gzip is not available for amqp endpoints: Zipkin's RabbitMQ collector reads uncompressed messages only");
});
