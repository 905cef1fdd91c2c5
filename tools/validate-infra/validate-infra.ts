// npm run validate:infra [-- --only id,id] [--root DIR]
// Offline: no provider download, no cluster, no Jenkins. What only real infrastructure can check
// is listed in docs/delivery.md.
import { join } from 'node:path';
import { CHECKS, runChecks } from './checks';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  if (args.includes('--list')) {
    for (const c of CHECKS) console.log(`${c.id.padEnd(18)} ${c.title}`);
    return 0;
  }
  const root = opt('--root') ?? join(__dirname, '../..');
  const only = opt('--only')?.split(',').filter(Boolean);
  const results = await runChecks(root, only);
  for (const r of results) {
    console.log(
      `${r.errors.length ? 'FAIL' : 'ok  '} ${r.id.padEnd(18)} ${r.title} (${(r.ms / 1000).toFixed(1)}s)`,
    );
    for (const e of r.errors) console.log(`       ${e}`);
  }
  const failed = results.filter((r) => r.errors.length);
  console.log(`validate:infra: ${results.length - failed.length} passed, ${failed.length} failed`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`validate:infra: ${(err as Error).message}`);
    process.exit(2);
  },
);
