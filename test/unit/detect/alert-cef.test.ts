import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alertToCef,
  CEF_SEVERITY,
  cefExtensionEscape,
  cefHeaderEscape,
} from '../../../src/detect/sinks/alert-cef.js';
import { parseCef, storedAlert } from './alert-fixture.js';

describe('CEF export', () => {
  it('escapes backslash and pipe in header fields, and flattens newlines', () => {
    assert.equal(cefHeaderEscape('a|b\\c'), 'a\\|b\\\\c');
    assert.equal(cefHeaderEscape('one\ntwo\r\nthree'), 'one two three');
    assert.equal(cefHeaderEscape('x=y'), 'x=y', 'equals needs no escape in the header');
  });

  it('escapes backslash, equals and newlines in extension values, not pipes', () => {
    assert.equal(cefExtensionEscape('a=b'), 'a\\=b');
    assert.equal(cefExtensionEscape('C:\\dir'), 'C:\\\\dir');
    assert.equal(cefExtensionEscape('l1\nl2\rl3'), 'l1\\nl2\\rl3');
    assert.equal(cefExtensionEscape('a|b'), 'a|b');
    assert.equal(cefExtensionEscape('\\='), '\\\\\\=');
  });

  it('maps severities to 3, 5, 8 and 10', () => {
    assert.deepEqual(CEF_SEVERITY, { low: 3, medium: 5, high: 8, critical: 10 });
    for (const [severity, value] of Object.entries(CEF_SEVERITY)) {
      const line = alertToCef(storedAlert({ severity: severity as 'low' }), '1.0.0');
      assert.equal(parseCef(line).header[6], String(value));
    }
  });

  it('writes the header and standard extension keys', () => {
    const line = alertToCef(storedAlert(), '0.1.0');
    assert.ok(line.startsWith('CEF:0|pgwarden|pgwarden|0.1.0|brute-force.source|'));
    assert.ok(!line.includes('\n'));
    const { header, extension } = parseCef(line);
    assert.deepEqual(header.slice(0, 6), [
      'CEF:0',
      'pgwarden',
      'pgwarden',
      '0.1.0',
      'brute-force.source',
      'Many failed logins from one source address in a short time.',
    ]);
    assert.equal(extension.get('src'), '203.0.113.9');
    assert.equal(extension.get('suser'), 'app');
    assert.equal(extension.get('rt'), String(Date.parse('2025-01-01T00:01:00.000Z')));
    assert.equal(extension.get('start'), String(Date.parse('2025-01-01T00:00:01.000Z')));
    assert.equal(extension.get('cnt'), '12');
    assert.equal(extension.get('externalId'), '42');
    assert.equal(extension.get('msg'), '12 failed logins from 203.0.113.9 in 60 s');
    assert.equal(extension.get('cs1Label'), 'tactic');
    assert.equal(extension.get('cs1'), 'Credential Access');
    assert.equal(extension.get('cs2'), 'T1110.001 Password Guessing');
    assert.equal(extension.get('cs3'), 'new');
    assert.equal(extension.get('cs4'), '203.0.113.9');
    assert.match(extension.get('cs6') ?? '', /auth\.failed 203\.0\.113\.9 app shop/);
  });

  it('round-trips hostile text through a parser', () => {
    const summary = 'x=1 | y\\z\nsuser=root cs1=forged';
    const line = alertToCef(
      storedAlert({ summary, subject: { address: '203.0.113.9', user: 'a=b c' }, key: 'k|=\\' }),
      '0.1.0',
    );
    assert.ok(!line.includes('\n'), 'one line per alert');
    const { extension } = parseCef(line);
    assert.equal(extension.get('msg'), summary);
    assert.equal(extension.get('suser'), 'a=b c');
    assert.equal(extension.get('cs4'), 'k|=\\');
    assert.equal(extension.get('cs1'), 'Credential Access', 'no injected key overrides a real one');
  });

  it('puts an IPv6 source in c6a2, never in src', () => {
    const { extension } = parseCef(
      alertToCef(storedAlert({ subject: { address: '2001:db8::7' } }), '0.1.0'),
    );
    assert.equal(extension.get('src'), undefined);
    assert.equal(extension.get('c6a2'), '2001:db8::7');
    assert.equal(extension.get('c6a2Label'), 'Source IPv6 Address');
  });

  it('leaves out what is unknown instead of writing empty keys', () => {
    const { extension } = parseCef(
      alertToCef(storedAlert({ subject: {}, evidence: [], type: 'from.a-newer-version' }), '0.1.0'),
    );
    for (const key of ['src', 'suser', 'cs1', 'cs2', 'cs6'])
      assert.equal(extension.has(key), false, key);
    assert.equal(extension.get('cnt'), '12');
  });

  it('keeps cs6 within 4000 characters, whole items only', () => {
    const evidence = Array.from({ length: 20 }, (_, i) => ({
      time: '2025-01-01T00:00:01.000Z',
      event: 'statement',
      detail: `${i}:${'x'.repeat(400)}`,
    }));
    const cs6 = parseCef(alertToCef(storedAlert({ evidence }), '0.1.0')).extension.get('cs6') ?? '';
    assert.ok(cs6.length <= 4000 && cs6.length > 3000, `cs6 is ${cs6.length} characters`);
    assert.ok(cs6.endsWith('x'), 'the last item is whole');
  });
});
