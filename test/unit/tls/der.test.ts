import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bitString,
  boolean,
  decodeOid,
  decodeTime,
  explicit,
  generalizedTime,
  ia5String,
  implicit,
  integer,
  namedBitString,
  nullValue,
  octetString,
  oid,
  printableString,
  readTlv,
  sequence,
  set,
  time,
  utcTime,
  utf8String,
} from '../../../src/gateway/tls/der.js';
import { formatIpAddress, ipAddressBytes } from '../../../src/gateway/tls/ip-address.js';

const hex = (buffer: Buffer): string => buffer.toString('hex');

describe('DER encoder (X.690)', () => {
  it('encodes INTEGER in the fewest two-complement octets (8.3)', () => {
    assert.equal(hex(integer(0)), '020100');
    assert.equal(hex(integer(127)), '02017f');
    assert.equal(hex(integer(128)), '02020080');
    assert.equal(hex(integer(256)), '02020100');
    assert.equal(hex(integer(-1)), '0201ff');
    assert.equal(hex(integer(-128)), '020180');
    assert.equal(hex(integer(-129)), '0202ff7f');
    assert.equal(hex(integer(0x80000000000000000000n)), '020b0080000000000000000000');
    assert.equal(hex(integer(0x7fffffffffffffffn)), '02087fffffffffffffff');
  });

  it('reads a Buffer INTEGER as an unsigned magnitude', () => {
    assert.equal(hex(integer(Buffer.from([0x00, 0x00, 0x7f]))), '02017f');
    assert.equal(hex(integer(Buffer.from([0xff]))), '020200ff');
    assert.equal(hex(integer(Buffer.from([0x00, 0x80, 0x01]))), '0203008001');
    assert.equal(hex(integer(Buffer.from([0, 0]))), '020100');
    assert.equal(hex(integer(Buffer.alloc(0))), '020100');
  });

  it('encodes OBJECT IDENTIFIER in base 128 (8.19)', () => {
    assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(oid('2.5.29.17')), '0603551d11');
    assert.equal(hex(oid('2.999.3')), '0603883703'); // X.690 8.19.5 example
    assert.equal(decodeOid(readTlv(oid('1.2.840.10045.4.3.2')).contents), '1.2.840.10045.4.3.2');
    assert.equal(decodeOid(readTlv(oid('2.999.3')).contents), '2.999.3');
    assert.throws(() => oid('1'));
    assert.throws(() => oid('3.1'));
    assert.throws(() => oid('1.40'));
  });

  it('encodes NULL, BOOLEAN, OCTET STRING and long lengths (8.1.3)', () => {
    assert.equal(hex(nullValue()), '0500');
    assert.equal(hex(boolean(true)), '0101ff');
    assert.equal(hex(boolean(false)), '010100');
    assert.equal(hex(octetString(Buffer.from([1, 2]))), '04020102');
    assert.equal(hex(octetString(Buffer.alloc(127)).subarray(0, 2)), '047f');
    assert.equal(hex(octetString(Buffer.alloc(128)).subarray(0, 3)), '048180');
    assert.equal(hex(octetString(Buffer.alloc(256)).subarray(0, 4)), '04820100');
  });

  it('encodes BIT STRING and named bit lists without trailing zero bits (11.2.2)', () => {
    assert.equal(hex(bitString(Buffer.from([0xab]))), '030200ab');
    assert.equal(hex(namedBitString([5, 6])), '03020106'); // keyCertSign, cRLSign
    assert.equal(hex(namedBitString([0])), '03020780'); // digitalSignature
    assert.equal(hex(namedBitString([8])), '0303070080'); // decipherOnly
    assert.equal(hex(namedBitString([])), '030100');
    assert.throws(() => bitString(Buffer.from([0x01]), 1));
  });

  it('encodes strings', () => {
    assert.equal(hex(utf8String('é')), '0c02c3a9');
    assert.equal(hex(printableString('Ab 1')), '130441622031');
    assert.throws(() => printableString('a@b'));
    assert.equal(hex(ia5String('a.b')), '1603612e62');
    assert.throws(() => ia5String('é'));
  });

  it('uses UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
    const end2049 = new Date('2049-12-31T23:59:59.999Z');
    const start2050 = new Date('2050-01-01T00:00:00Z');
    assert.equal(hex(time(end2049)), hex(Buffer.from('\x17\x0d491231235959Z', 'latin1')));
    assert.equal(hex(time(start2050)), hex(Buffer.from('\x18\x0f20500101000000Z', 'latin1')));
    assert.equal(utcTime(new Date('1950-01-01T00:00:00Z')).subarray(2).toString(), '500101000000Z');
    assert.equal(time(new Date('1949-12-31T00:00:00Z'))[0], 0x18);
    assert.throws(() => utcTime(start2050));
    assert.equal(generalizedTime(end2049).subarray(2).toString(), '20491231235959Z');
    for (const date of [
      new Date('2049-12-31T23:59:59Z'),
      start2050,
      new Date('1999-02-03T04:05:06Z'),
    ]) {
      assert.equal(decodeTime(readTlv(time(date))).toISOString(), date.toISOString());
    }
  });

  it('encodes SEQUENCE, sorted SET OF (11.6) and context tags (8.14)', () => {
    assert.equal(hex(sequence(integer(1), nullValue())), '3005020101' + '0500');
    assert.equal(hex(set(integer(2), integer(1))), '3106020101020102');
    assert.equal(hex(explicit(0, integer(2))), 'a003020102');
    assert.equal(hex(implicit(2, ia5String('a'))), '820161');
    assert.equal(hex(implicit(0, sequence())), 'a000');
  });

  it('reads elements and refuses non-minimal lengths', () => {
    const element = readTlv(octetString(Buffer.alloc(300)));
    assert.equal(element.contents.length, 300);
    assert.equal(element.end, 304);
    assert.throws(() => readTlv(Buffer.from('04810100', 'hex')), /non-minimal/);
    assert.throws(() => readTlv(Buffer.from('0405aa', 'hex')), /truncated/);
  });
});

describe('iPAddress octets (RFC 5280 4.2.1.6)', () => {
  it('parses IPv4 and IPv6 into 4 and 16 octets', () => {
    assert.equal(hex(ipAddressBytes('127.0.0.1') ?? Buffer.alloc(0)), '7f000001');
    assert.equal(hex(ipAddressBytes('::1') ?? Buffer.alloc(0)), `${'00'.repeat(15)}01`);
    assert.equal(
      hex(ipAddressBytes('2001:db8::ff00:42:8329') ?? Buffer.alloc(0)),
      '20010db8000000000000ff0000428329',
    );
    assert.equal(
      hex(ipAddressBytes('::ffff:192.0.2.1') ?? Buffer.alloc(0)),
      '00000000000000000000ffffc0000201',
    );
    assert.equal(ipAddressBytes('fe80::1%eth0'), undefined);
    assert.equal(ipAddressBytes('localhost'), undefined);
  });

  it('formats IPv6 in the RFC 5952 form', () => {
    for (const text of [
      '::1',
      '::',
      '2001:db8::1',
      '2001:db8:0:1:1:1:1:1',
      '2001:0:0:1::1',
      'fe80::1:2',
    ]) {
      assert.equal(formatIpAddress(ipAddressBytes(text) ?? Buffer.alloc(0)), text);
    }
    assert.equal(
      formatIpAddress(ipAddressBytes('2001:DB8:0:0:1:0:0:1') ?? Buffer.alloc(0)),
      '2001:db8::1:0:0:1',
    );
  });
});
