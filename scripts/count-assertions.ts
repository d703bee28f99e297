// Counts non-null assertions (`x!`) and type assertions (`x as T`, excluding `as const`) in
// production code (src/, without tests and test support): the figure issue 12 asks to report.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name === 'node_modules' || name === 'test-support' || name === 'dist') continue;
      yield* files(path);
    } else if (
      /\.(ts|tsx)$/.test(name) &&
      !/\.(test|browser\.test)\.tsx?$/.test(name) &&
      !name.endsWith('.d.ts')
    ) {
      yield path;
    }
  }
}

let nonNull = 0;
let casts = 0;
for (const file of files(process.argv[2] ?? 'src')) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isNonNullExpression(node)) nonNull++;
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) {
      const type = node.type.getText(source);
      if (type !== 'const') casts++;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
console.log(JSON.stringify({ nonNullAssertions: nonNull, asCasts: casts }));
