// A tagged template for statements sent straight to the pg pool under Prisma (see
// PrismaService.query): `${value}` becomes a parameter ($1, $2, ...), `${literal('64')}` is
// written into the text. pg sends parameters untyped, so the SQL casts any whose type Postgres
// cannot infer from its place (`${ms}::int * interval '1 millisecond'`).

/** SQL text written into a statement as is: never pass it anything that came from outside. */
export class SqlLiteral {
  constructor(readonly text: string) {}
}

export function literal(text: string): SqlLiteral {
  return new SqlLiteral(text);
}

export interface SqlStatement {
  text: string;
  values: unknown[];
}

export function sql(strings: TemplateStringsArray, ...args: unknown[]): SqlStatement {
  const values: unknown[] = [];
  let text = strings[0];
  args.forEach((arg, i) => {
    if (arg instanceof SqlLiteral) {
      text += arg.text;
    } else {
      values.push(arg);
      text += `$${values.length}`;
    }
    text += strings[i + 1];
  });
  return { text, values };
}
