/**
 * Shards that merge: the commands of examples/shards/ (the Kubernetes Indexed Job and the
 * GitHub Actions matrix run exactly these) for four small shards on this machine, then the
 * merge step, and the merged coverage checked against each shard's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MergedStress } from '../src/explore/merge.js';
import type { StressResult } from '../src/explore/stress.js';
import { ROOT, cliEnv } from './helpers/cli.js';

const EX = join(ROOT, 'examples', 'shards');

function sh(command: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', command], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('shards (examples/shards)', () => {
  it('four shards as the Indexed Job runs them, merged as the matrix workflow merges them: one coverage table over all four', async () => {
    const job = readFileSync(join(EX, 'k8s-indexed-job.yaml'), 'utf8');
    const flow = readFileSync(join(EX, 'github-matrix.yml'), 'utf8');
    expect(job).toMatch(/completionMode: Indexed/);
    const completions = Number(/completions: (\d+)/.exec(job)![1]);
    const shardCmd = /command: \["sh", "-c", "([^"]+)"\]/.exec(job)![1];
    expect(shardCmd).toBe('examples/shards/shard.sh $JOB_COMPLETION_INDEX');
    const matrix = /shard: \[([\d, ]+)\]/.exec(flow)![1].split(',').map((s) => Number(s.trim()));
    expect(matrix).toEqual(Array.from({ length: completions }, (_, k) => k));
    expect(flow).toContain('run: examples/shards/shard.sh ${{ matrix.shard }}');
    const mergeCmd = /run: (examples\/shards\/merge\.sh)/.exec(flow)![1];

    const out = mkdtempSync(join(tmpdir(), 'hintsim-shards-'));
    const env = { SHARD_OUT: out, SHARD_OPS: '150', SHARD_JOBS: '1', HINTSIM: 'node --import tsx src/cli.ts' };
    const runs: Promise<{ status: number | null; stderr: string }>[] = [];
    for (const k of matrix) runs.push(sh(shardCmd, { ...env, JOB_COMPLETION_INDEX: String(k) }));
    for (const r of await Promise.all(runs)) expect(r.status, r.stderr).toBe(0);
    const m = await sh(mergeCmd, env);
    expect(m.status, m.stderr).toBe(0); // every fix on: no shard failed
    expect(m.stdout).toMatch(/^merge: 4 shards, \d+ runs/);

    const shards = matrix.map((k) => JSON.parse(readFileSync(join(out, `stress-${k}.json`), 'utf8')) as StressResult);
    expect(new Set(shards.map((s) => s.seed)).size).toBe(4); // each shard its own seed
    const merged = JSON.parse(readFileSync(join(out, 'merged.json'), 'utf8')) as MergedStress;
    expect(merged.runs).toBe(shards.reduce((s, x) => s + x.runs, 0));
    expect(merged.ops).toBe(shards.reduce((s, x) => s + x.ops, 0));
    for (const g of Object.keys(merged.coverage.groups) as (keyof MergedStress['coverage']['groups'])[]) {
      const never = new Set(merged.coverage.groups[g].never);
      // reached by the merge = reached by some shard; never reached = reached by none
      for (const s of shards) for (const k of Object.keys(s.coverage.counts[g])) if (s.coverage.counts[g][k] > 0) expect(never.has(k)).toBe(false);
      for (const k of never) expect(shards.every((s) => s.coverage.groups[g].never.includes(k))).toBe(true);
      expect(merged.coverage.groups[g].reached).toBeGreaterThanOrEqual(Math.max(...shards.map((s) => s.coverage.groups[g].reached)));
      for (const [k, n] of Object.entries(merged.coverage.counts[g])) expect(n).toBe(shards.reduce((t, s) => t + (s.coverage.counts[g][k] ?? 0), 0));
    }
  });
});
