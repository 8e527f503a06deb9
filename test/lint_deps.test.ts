/**
 * npm run lint:deps (scripts/lint-deps.mjs) as a user meets it: on a small tree with a
 * cycle between folders, a guest importing a host, a host importing another host and the
 * guest, and src/core importing outside itself, it exits 1 and prints each rule by name
 * with the files; on a clean tree it exits 0. (The project's own tree is checked by CI.)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hintsim-lint-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true }, include: ['src', 'workloads'] }));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

const lint = (dir: string) => spawnSync('node', [join(ROOT, 'scripts/lint-deps.mjs'), dir], { encoding: 'utf8', timeout: 60_000 });

describe('npm run lint:deps', () => {
  it('names each broken rule and the files, and exits 1', () => {
    const dir = tree({
      'src/core/ctx.ts': "import { p2m } from '../hosts/xen/p2m.js';\nexport const ctx = p2m;\n",
      'src/hosts/xen/p2m.ts': "import { frames } from '../../core/layout.js';\nimport { x } from '../essa/reclaim.js';\nimport { g } from '../../guest/memory.js';\nexport const p2m = frames + x + g;\n",
      'src/core/layout.ts': 'export const frames = 1;\n',
      'src/hosts/essa/reclaim.ts': 'export const x = 1;\n',
      'src/guest/memory.ts': "import { p2m } from '../hosts/xen/p2m.js';\nexport const g = 1;\nexport const m = p2m;\n",
      'src/sim/strategies/random.ts': "import type { S } from '../strategy.js';\nexport const r: S = 1;\n",
      'src/sim/strategy.ts': "import { r } from './strategies/random.js';\nexport type S = number;\nexport const all = [r];\n",
    });
    const r = lint(dir);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^no-folder-cycle \(\d+\): /m);
    expect(r.stdout).toContain('src/core -> src/hosts/xen -> src/core');
    expect(r.stdout).toContain('src/core -> src/hosts/xen: src/core/ctx.ts -> src/hosts/xen/p2m.ts');
    expect(r.stdout).toMatch(/^guest-imports-no-host \(1\): .*\n {2}src\/guest\/memory\.ts -> src\/hosts\/xen\/p2m\.ts$/m);
    expect(r.stdout).toMatch(/^host-imports-no-other-host \(1\): .*\n {2}src\/hosts\/xen\/p2m\.ts -> src\/hosts\/essa\/reclaim\.ts$/m);
    expect(r.stdout).toMatch(/^host-imports-no-guest \(1\): .*\n {2}src\/hosts\/xen\/p2m\.ts -> src\/guest\/memory\.ts$/m);
    expect(r.stdout).toMatch(/^core-imports-only-core \(1\): .*\n {2}src\/core\/ctx\.ts -> src\/hosts\/xen\/p2m\.ts$/m);
    expect(r.stdout).not.toContain('src/sim/strategies'); // a subfolder is part of its folder
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^lint:deps: \d+ violations of 5 rules: no-folder-cycle, /);
  }, 60_000);

  it('a layered tree passes: exit 0 and one line', () => {
    const dir = tree({
      'src/core/layout.ts': 'export const frames = 1;\n',
      'src/hosts/index.ts': "import { x } from './essa/reclaim.js';\nexport interface Host { n: number }\nexport const hosts = [x];\n",
      'src/hosts/essa/reclaim.ts': "import type { Host } from '../index.js';\nimport { frames } from '../../core/layout.js';\nexport const x: Host = { n: frames };\n",
      'src/guest/memory.ts': "import { frames } from '../core/layout.js';\nexport const g = frames;\n",
      'src/machine/run.ts': "import { hosts } from '../hosts/index.js';\nimport { g } from '../guest/memory.js';\nexport const run = [hosts, g];\n",
    });
    const r = lint(dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^lint:deps: no violation \(5 modules, \d+ imports\)\n$/);
  }, 60_000);
});
