import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json';
import { chainHash, GENESIS_HASH } from './hash-chain';
import { hashJson, sha256Hex } from './sha256';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], '\u00e9': 2, A: { z: 1, y: 2 } })).toBe(
      '{"A":{"y":2,"z":1},"a":[true,null,"x"],"b":1,"\u00e9":2}',
    );
  });

  it('serialises numbers in ES shortest form (RFC 8785 appendix B samples)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.000001, -0, 333333333.3333333, 9007199254740991])).toBe(
      '[1e+21,1e-7,0.000001,0,333333333.3333333,9007199254740991]',
    );
  });

  it('matches the canonicalize package on generated JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 300 },
    );
  });

  it('is independent of key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(dict));
      }),
      { numRuns: 100 },
    );
  });
});

describe('hashing', () => {
  it('sha256Hex matches the FIPS 180-2 test vector', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashJson is equal for equal data and differs for a changed leaf', () => {
    expect(hashJson({ a: 1, b: [1, 2] })).toBe(hashJson({ b: [1, 2], a: 1 }));
    expect(hashJson({ a: 1, b: [1, 2] })).not.toBe(hashJson({ a: 1, b: [1, 3] }));
  });

  it('chainHash links previous hash and canonical command', () => {
    const h1 = chainHash(GENESIS_HASH, { type: 'x', n: 1 });
    expect(h1).toBe(sha256Hex(GENESIS_HASH + '{"n":1,"type":"x"}'));
    expect(chainHash(h1, { type: 'y' })).not.toBe(chainHash(GENESIS_HASH, { type: 'y' }));
  });
});
