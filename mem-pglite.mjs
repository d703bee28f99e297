import { PGlite } from '@electric-sql/pglite';
const mb = (n) => (n / 1048576).toFixed(0);
const show = (l) => { const m = process.memoryUsage(); console.log(l, 'rss', mb(m.rss), 'heap', mb(m.heapUsed), 'external', mb(m.external), 'ab', mb(m.arrayBuffers)); };
show('start');
const db = new PGlite(process.argv[2] || undefined);
await db.waitReady; show('pglite ready');
await db.query('select 1'); show('after query');
