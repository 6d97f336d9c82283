import { createHash } from 'node:crypto';

/** Statements with more parameters than this (long IN lists) stay unnamed: each length would be one more. */
const MAX_NAMED_ARGS = 32;
const MAX_NAMES = 2000;
/** pg runs a query with an empty name as an unnamed statement */
const UNNAMED = '';

/**
 * Names for Postgres prepared statements, one per distinct SQL text: a named statement is parsed
 * once per connection and its plan can be reused, where an unnamed one is parsed and planned on
 * every call (the lease grant spent as long planning as running). Bounded, so that a stream of
 * distinct texts cannot grow every connection's statement cache without limit.
 */
export function statementNamer(): (query: { sql: string; args: unknown[] }) => string {
  const names = new Map<string, string>();
  return ({ sql, args }) => {
    if (args.length > MAX_NAMED_ARGS) return UNNAMED;
    let name = names.get(sql);
    if (name === undefined) {
      if (names.size >= MAX_NAMES) return UNNAMED;
      name = `t${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      names.set(sql, name);
    }
    return name;
  };
}
