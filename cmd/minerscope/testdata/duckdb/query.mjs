// query.mjs runs SQL queries with DuckDB, an engine independent of minerscope, for the export tests.
// It reads a JSON array of {"name", "sql"} on stdin and prints one JSON object mapping each name to the
// rows the query returned (values as DuckDB's JSON conversion gives them: BIGINT and HUGEINT as strings).
import { DuckDBInstance } from '@duckdb/node-api';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const queries = JSON.parse(input);

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
const out = { duckdb_version: (await con.runAndReadAll('SELECT version() AS v')).getRowObjectsJson()[0].v };
for (const q of queries) {
  try {
    out[q.name] = (await con.runAndReadAll(q.sql)).getRowObjectsJson();
  } catch (e) {
    console.error(`query ${q.name} failed: ${e.message}\n${q.sql}`);
    process.exit(1);
  }
}
process.stdout.write(JSON.stringify(out));
