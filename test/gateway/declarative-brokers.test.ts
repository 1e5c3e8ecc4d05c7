/**
 * decK files whose zipkin plugins report over Kafka or RabbitMQ: examples/kong-brokers.yml
 * loads and starts its plugin instances (no broker is contacted until spans are sent), and a
 * wrong broker URL is rejected at load with the plugin's field path, as Kong names errors.
 */
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { loadDeclarativeConfigFile, parseDeclarativeConfig } from '../../src/gateway/declarative';
import { createPluginInstances } from '../../src/gateway/plugin-instances';
import { recordingLogger } from '../support/recording-logger';

const EXAMPLE = join(__dirname, '../../examples/kong-brokers.yml');

test('examples/kong-brokers.yml loads, and its plugins start without contacting a broker', async () => {
  const config = await loadDeclarativeConfigFile(EXAMPLE);
  const endpoints = config.plugins.map((p) => (p.config as { http_endpoint: string }).http_endpoint).sort();
  expect(endpoints).toEqual([
    'amqp://zipkin:secret@rabbit:5672/tracing?queue=zipkin&encoding=proto3',
    'kafka://kafka1:9092,kafka2:9092/zipkin?client_id=edge-gateway&max_message_bytes=900000',
  ]);
  const logger = recordingLogger();
  const instances = createPluginInstances(config, logger);
  expect(instances.byId.size).toBe(2);
  await instances.shutdown(1000);
  expect(logger.errors).toEqual([]);
});

test('a wrong broker URL is a load error naming the field', () => {
  let error: ConfigError | undefined;
  try {
    parseDeclarativeConfig(
      [
        '_format_version: "3.0"',
        'plugins:',
        '  - name: zipkin',
        '    config:',
        '      http_endpoint: kafka://k1:9092/zipkin?compression=gzip',
        '',
      ].join('\n'),
    );
  } catch (err) {
    error = err as ConfigError;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect(error?.message).toBe(
    "plugins[0].config.http_endpoint: unknown kafka endpoint parameter 'compression' (expected one of: ca, client_id, encoding, max_message_bytes, sasl, tls)",
  );
});
