import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 4: optional sinks never block client traffic. A webhook that accepts
 * connections and never answers, and one that works, both configured: every
 * statement still completes, the chained file log has every record, and the
 * working webhook receives them.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

describe(`audit sinks (${pgBin})`, () => {
  const received: Record<string, unknown>[] = [];
  const hanging: http.ServerResponse[] = [];
  const hangingServer = http.createServer((_req, res) => {
    hanging.push(res); // never answered
  });
  const workingServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      received.push(...(JSON.parse(body) as Record<string, unknown>[]));
      res.end('ok');
    });
  });
  after(async () => {
    for (const res of hanging) res.destroy();
    hangingServer.closeAllConnections();
    workingServer.closeAllConnections();
    await new Promise((resolve) => hangingServer.close(resolve));
    await new Promise((resolve) => workingServer.close(resolve));
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));

  before(async () => {
    const hangPort = await listen(hangingServer);
    const workPort = await listen(workingServer);
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(
      server.layout.configFile,
      [
        'audit:',
        '  log: [all]',
        '  sinks:',
        `    - { type: webhook, url: "http://127.0.0.1:${hangPort}/hook", allowPlaintextHttp: true, maxQueue: 50 }`,
        `    - { type: webhook, url: "http://127.0.0.1:${workPort}/hook", allowPlaintextHttp: true }`,
        '',
      ].join('\n'),
    );
    await server.up();
  });

  it('lets every statement through while a sink hangs, and keeps every record in the file log', async () => {
    const client = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    await client.connect();
    try {
      for (let i = 0; i < 300; i++) await client.query('SELECT $1::int AS i', [i]);
    } finally {
      await client.end();
    }
    const deadline = Date.now() + 10_000;
    const count = (): number =>
      readdirSync(join(server.dataDir, 'audit'))
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) => readFileSync(join(server.dataDir, 'audit', f), 'utf8').split('\n'))
        .filter((l) => l.includes('"event":"statement"') && l.includes('SELECT $1::int AS i'))
        .length;
    while (count() < 300 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(count(), 300, 'the chained file log has every statement');
    while (received.filter((r) => r.event === 'statement').length < 300 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(
      received.filter((r) => r.event === 'statement' && r.statement === 'SELECT $1::int AS i')
        .length,
      300,
    );
    assert.ok(hanging.length >= 1, 'the hanging sink was tried, and is still waiting');
  });

  it('refuses an http:// sink unless allowPlaintextHttp says so', async () => {
    const other = TempServer.create(pgBin, async () => undefined);
    mkdirSync(other.dataDir, { recursive: true });
    writeFileSync(
      other.layout.configFile,
      'audit:\n  sinks:\n    - { type: webhook, url: "http://127.0.0.1:9/x" }\n',
    );
    const result = await other.cli(['up', '--detach']);
    await other.destroy();
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /not https/);
  });
});
