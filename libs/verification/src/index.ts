// @tessera/verification: comparing renders, and the sampling policy and reputation maths that
// decide what to check. Pure functions; sharp decodes, pixelmatch diffs.
export * from './image';
export * from './compare';
export * from './policy';
