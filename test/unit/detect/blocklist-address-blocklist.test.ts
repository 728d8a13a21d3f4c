import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressBlocklist } from '../../../src/detect/blocklist/address-blocklist.js';

const FILE = [
  '# FireHOL-style list', // 1
  '', // 2
  '203.0.113.7', // 3
  '198.51.100.0/24   # a whole network', // 4
  '2001:db8:bad::/48', // 5
  '192.0.2.0/25 ; SBL123 (Spamhaus DROP style)', // 6
  'not-an-address', // 7
  '10.0.0.0/33', // 8
  '   ', // 9
  '192.0.2.128/25\r', // 10: CRLF line endings
  '10.1.2.3/8', // 11: host bits set: the range is 10.0.0.0/8
  '10.20.0.0/16', // 12: inside line 11's range
  '1.2.3.4 5.6.7.8', // 13
  '2001:db8::1%eth0', // 14: zone ids name interfaces, not addresses
].join('\n');

describe('AddressBlocklist', () => {
  const list = AddressBlocklist.parse(FILE);

  it('reads addresses and ranges, skips comments and blank lines, keeps malformed lines as problems', () => {
    assert.deepEqual(
      list.entries.map((e) => [e.line, e.text]),
      [
        [3, '203.0.113.7'],
        [4, '198.51.100.0/24'],
        [5, '2001:db8:bad::/48'],
        [6, '192.0.2.0/25'],
        [10, '192.0.2.128/25'],
        [11, '10.1.2.3/8'],
        [12, '10.20.0.0/16'],
      ],
    );
    assert.deepEqual(list.problems, [
      { line: 7, text: 'not-an-address' },
      { line: 8, text: '10.0.0.0/33' },
      { line: 13, text: '1.2.3.4 5.6.7.8' },
      { line: 14, text: '2001:db8::1%eth0' },
    ]);
  });

  it('matches addresses inside a range, at its edges, IPv4-mapped, and says which line', () => {
    const line = (address: string): number | undefined => list.match(address)?.line;
    assert.equal(line('203.0.113.7'), 3);
    assert.equal(line('::ffff:203.0.113.7'), 3);
    assert.equal(line('203.0.113.8'), undefined);
    assert.equal(line('203.0.113.6'), undefined);
    assert.equal(line('198.51.100.0'), 4);
    assert.equal(line('198.51.100.255'), 4);
    assert.equal(line('198.51.101.0'), undefined);
    assert.equal(line('198.51.99.255'), undefined);
    assert.equal(line('2001:db8:bad:ffff::1'), 5);
    assert.equal(line('2001:db8:bae::1'), undefined);
    // Adjacent ranges merge for the search; the line is the one that holds the address.
    assert.equal(line('192.0.2.127'), 6);
    assert.equal(line('192.0.2.128'), 10);
    assert.equal(line('10.200.0.1'), 11);
    assert.ok([11, 12].includes(line('10.20.3.4') ?? 0));
    assert.equal(line('11.0.0.0'), undefined);
    assert.equal(line('not an address'), undefined);
    // An IPv4 range never matches an IPv6 address with the same bits.
    assert.equal(line('::cb00:7107'), undefined);
  });

  it('an empty file blocks nothing', () => {
    const empty = AddressBlocklist.parse('# nothing yet\n\n');
    assert.equal(empty.entries.length, 0);
    assert.equal(empty.problems.length, 0);
    assert.equal(empty.match('203.0.113.7'), undefined);
  });

  it('finds the right range among many (binary search over merged ranges)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`10.${Math.floor(i / 250)}.${i % 250}.0/25`);
    const big = AddressBlocklist.parse(lines.join('\n'));
    assert.equal(big.entries.length, 5000);
    for (const i of [0, 1, 249, 250, 2500, 4999]) {
      const a = Math.floor(i / 250);
      const b = i % 250;
      assert.equal(big.match(`10.${a}.${b}.1`)?.line, i + 1, `10.${a}.${b}.1`);
      assert.equal(big.match(`10.${a}.${b}.127`)?.line, i + 1);
      assert.equal(big.match(`10.${a}.${b}.128`), undefined, `10.${a}.${b}.128`);
    }
    assert.equal(big.match('10.20.0.1'), undefined);
    assert.equal(big.match('9.255.255.255'), undefined);
  });
});
