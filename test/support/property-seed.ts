import fc from 'fast-check';

// Property tests explore fresh random cases on a developer's machine, but CI runs one fixed
// seed so that what passed here lands there. FLOTILLA_PROPERTY_SEED pins any run; fast-check
// prints the seed and shrunk counterexample of a failure either way.
const pinned = process.env.FLOTILLA_PROPERTY_SEED ?? (process.env.CI ? '20261123' : undefined);
if (pinned !== undefined) {
  const seed = Number(pinned);
  if (!Number.isSafeInteger(seed)) throw new Error(`FLOTILLA_PROPERTY_SEED must be an integer, got "${pinned}"`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}
