import type { Reporter, TestModule } from 'vitest/node';

/** Prints `N passed, N failed[, N skipped]` as the run's last line (CI reads it). */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(mods: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown>): void {
    let passed = 0, failed = 0, skipped = 0;
    for (const m of mods) {
      let n = 0;
      for (const t of m.children.allTests()) {
        n++;
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else if (s === 'skipped') skipped++;
      }
      if (m.state() === 'failed' && (n === 0 || m.errors().length > 0)) failed++; // load/hook failure
    }
    failed += unhandled.length;
    process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
