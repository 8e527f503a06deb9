/**
 * The command line's layout (issue 14): one file per command in src/cli/, each exporting a
 * register function that adds exactly its own command; src/cli.ts only lists them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { Register } from '../src/cli/common.js';

const ROOT = join(import.meta.dirname, '..');
const NOT_COMMANDS = new Set(['common.ts']);

describe('src/cli: one file per command', () => {
  const files = readdirSync(join(ROOT, 'src', 'cli')).filter((f) => f.endsWith('.ts') && !NOT_COMMANDS.has(f)).sort();

  it('each file registers exactly one command, named after the file', async () => {
    expect(files.length).toBeGreaterThanOrEqual(11);
    for (const f of files) {
      const name = f.replace(/\.ts$/, '');
      const mod = (await import(/* @vite-ignore */ pathToFileURL(join(ROOT, 'src', 'cli', f)).href)) as Record<string, unknown>;
      const registers = Object.entries(mod).filter(([k, v]) => /^register[A-Z]/.test(k) && typeof v === 'function');
      expect(registers.map(([k]) => k), f).toEqual([`register${name[0].toUpperCase()}${name.slice(1)}`]);
      const program = new Command();
      (registers[0][1] as Register)(program, () => {});
      expect(program.commands.map((c) => c.name()), f).toEqual([name]);
    }
  });

  it('src/cli.ts registers every command file and defines no command itself', () => {
    const text = readFileSync(join(ROOT, 'src', 'cli.ts'), 'utf8');
    expect(text).not.toMatch(/\.command\(/);
    for (const f of files) expect(text, f).toContain(`from './cli/${f.replace(/\.ts$/, '.js')}'`);
  });
});
