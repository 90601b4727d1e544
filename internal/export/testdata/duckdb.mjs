// Runs the queries of docs/sql.md in DuckDB for export's tests: reads {"setup": [sql…],
// "queries": {name: sql}} on stdin, prints {name: [row…]} as JSON. BIGINT values arrive as
// strings (JSON has no 64-bit integers), timestamps as ISO text.
import { DuckDBInstance } from '@duckdb/node-api';

const input = JSON.parse(await new Promise((resolve) => {
  let s = '';
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
}));
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
for (const sql of input.setup) {
  await conn.run(sql);
}
const out = {};
for (const [name, sql] of Object.entries(input.queries)) {
  const reader = await conn.runAndReadAll(sql);
  out[name] = reader.getRowObjectsJson();
}
process.stdout.write(JSON.stringify(out));
