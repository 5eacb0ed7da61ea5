// Runs after every npm install/ci: the built site uses duckdb-wasm 1.28 (DuckDB 0.9.1, the newest that reads
// parquet without downloading an extension), which rejects two SET statements universal-sql sends; make them optional.
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, '..', 'node_modules', '@evidence-dev', 'universal-sql', 'src', 'client-duckdb');
for (const f of ['node.js', 'browser.js']) {
  const p = path.join(dir, f);
  let s = fs.readFileSync(p, 'utf8');
  for (const set of ['SET ieee_floating_point_ops = false;', 'SET old_implicit_casting = true;']) {
    const stmt = `await connection.query('${set}');`;
    if (s.includes(`try { ${stmt} } catch {}`)) continue; // idempotent
    if (!s.includes(stmt)) throw new Error(`patch target not found in ${p}`);
    s = s.replace(stmt, `try { ${stmt} } catch {}`);
  }
  fs.writeFileSync(p, s);
}
