import { literal, sql } from './sql';

describe('sql', () => {
  it('numbers parameters in order and writes literals into the text', () => {
    const id = 'a';
    const statement = sql`SELECT * FROM t WHERE id = ${id}::uuid AND n < ${3} LIMIT ${literal('64')} OFFSET ${id}`;
    expect(statement).toEqual({
      text: 'SELECT * FROM t WHERE id = $1::uuid AND n < $2 LIMIT 64 OFFSET $3',
      values: ['a', 3, 'a'],
    });
  });

  it('keeps a statement without parameters as it is', () => {
    expect(sql`SELECT 1`).toEqual({ text: 'SELECT 1', values: [] });
  });
});
