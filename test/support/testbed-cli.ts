/**
 * CLI for the multi-host testbed (root):
 *   node --import tsx test/support/testbed-cli.ts up N [prefix]   create a persistent testbed, print it as JSON
 *   node --import tsx test/support/testbed-cli.ts down [prefix]   tear down one testbed, or all of them
 *   node --import tsx test/support/testbed-cli.ts list            list testbeds on disk
 *   node --import tsx test/support/testbed-cli.ts cleanup         remove testbeds of dead owners + orphan namespaces
 * scripts/testbed.sh wraps this.
 */
import { createTestbed, openTestbed, listTestbeds, cleanupStaleTestbeds } from './testbed.js';

async function main(argv: string[]): Promise<number> {
  const [cmd, a1, a2] = argv;
  switch (cmd) {
    case 'up': {
      const n = Number(a1 ?? '2');
      const tb = await createTestbed({ hosts: n, persistent: true, ...(a2 ? { prefix: a2 } : {}) });
      const out = {
        prefix: tb.prefix,
        sharedDir: tb.sharedDir,
        hosts: tb.hosts.map((h) => ({ name: h.name, ip: h.ip, netns: h.netns, dir: h.dir, uri: h.uri, migrationUri: h.migrationUri, pid: h.pid() })),
      };
      console.log(JSON.stringify(out, null, 2));
      return 0;
    }
    case 'down': {
      const prefixes = a1 ? [a1] : listTestbeds();
      for (const p of prefixes) {
        await openTestbed(p).destroy();
        console.error(`destroyed ${p}`);
      }
      const orphans = await cleanupStaleTestbeds({ all: !a1 });
      if (orphans.length) console.error(`cleaned ${orphans.join(' ')}`);
      return 0;
    }
    case 'list':
      for (const p of listTestbeds()) console.log(p);
      return 0;
    case 'cleanup': {
      const r = await cleanupStaleTestbeds();
      console.log(r.join('\n'));
      return 0;
    }
    default:
      console.error('usage: testbed-cli.ts up N [prefix] | down [prefix] | list | cleanup');
      return 2;
  }
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
