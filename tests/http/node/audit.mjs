// The graphql-http server audit against one URL; prints one JSON document on stdout.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = await auditServer({ url });
const report = {
  total: results.length,
  ok: results.filter((r) => r.status === 'ok').length,
  results: await Promise.all(
    results.map(async (r) => {
      const entry = { id: r.id, name: r.name, status: r.status };
      if (r.status !== 'ok') {
        entry.reason = r.reason;
        entry.httpStatus = r.response.status;
        entry.contentType = r.response.headers.get('content-type');
        try {
          entry.body = (await r.response.text()).slice(0, 500);
        } catch {
          entry.body = null; // the audit may have read it already
        }
      }
      return entry;
    }),
  ),
};
process.stdout.write(JSON.stringify(report) + '\n');
