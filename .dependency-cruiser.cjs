/**
 * `npm run lint:deps` (scripts/lint-deps.mjs): the layering rules of DESIGN.md section 6.
 * The rules on single imports are here; type-only imports count (an interface is a
 * dependency too). The rule on cycles between folders (no-folder-cycle) is checked by
 * scripts/lint-deps.mjs on the graph dependency-cruiser builds with this configuration.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'guest-imports-no-host',
      severity: 'error',
      comment: 'The guest calls host hooks (GuestHooks, installed at context init) and never imports a host: nothing in src/guest imports src/hosts/**.',
      from: { path: '^src/guest/' },
      to: { path: '^src/hosts/' },
    },
    {
      name: 'host-imports-no-other-host',
      severity: 'error',
      comment: 'A host is one folder: nothing in src/hosts/<name>/ imports another host\'s folder.',
      from: { path: '^src/hosts/([^/]+)/' },
      to: { path: '^src/hosts/[^/]+/', pathNot: '^src/hosts/$1/' },
    },
    {
      name: 'host-imports-no-guest',
      severity: 'error',
      comment: 'A host sees the guest only through shared memory and src/core: nothing in src/hosts/** imports src/guest.',
      from: { path: '^src/hosts/' },
      to: { path: '^src/guest/' },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'src/core is the common machine every layer builds on: it imports nothing of this project outside src/core.',
      from: { path: '^src/core/' },
      to: { path: '^(src|workloads)/', pathNot: '^src/core/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.d.ts'] },
  },
};
