export { canonicalJson } from './canonical-json';
export { sha256Hex, hashJson } from './sha256';
export { GENESIS_HASH, chainHash } from './hash-chain';
